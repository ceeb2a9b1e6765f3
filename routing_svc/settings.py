"""routing_svc settings: env prefix SIMPUL_ROUTING_."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    service_name: ClassVar[str] = "routing"
    model_config = SettingsConfigDict(env_prefix="SIMPUL_ROUTING_", extra="ignore")

    max_forwards: int = 3
    """How many forwards (bukan wewenang) a case may take; the next one sends it to the coordinators' triage."""
