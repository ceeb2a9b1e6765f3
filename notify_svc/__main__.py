from notify_svc.app import create_app
from notify_svc.settings import NotifySettings
from shared.service_main import run_service

run_service("notify_svc", NotifySettings, create_app)  # type: ignore[arg-type]
