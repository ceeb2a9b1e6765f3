from routing_svc.app import create_app
from routing_svc.settings import RoutingSettings
from shared.service_main import run_service

run_service("routing_svc", RoutingSettings, create_app)  # type: ignore[arg-type]
