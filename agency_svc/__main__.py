from agency_svc.app import create_app
from agency_svc.settings import AgencySettings
from shared.service_main import run_service

run_service("agency_svc", AgencySettings, create_app)  # type: ignore[arg-type]
