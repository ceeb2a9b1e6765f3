from intake_svc.app import create_app
from intake_svc.settings import IntakeSettings
from shared.service_main import run_service

run_service("intake_svc", IntakeSettings, create_app)  # type: ignore[arg-type]
