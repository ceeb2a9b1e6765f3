"""The four services: their packages, env prefixes and public path prefixes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    package: str
    api_prefix: str
    holds_personal_data: bool

    @property
    def env_prefix(self) -> str:
        return f"SIMPUL_{self.name.upper()}_"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("intake", "intake_svc", "/api/v1/complaints", holds_personal_data=True),
    ServiceSpec("routing", "routing_svc", "/api/v1/hub", holds_personal_data=False),
    ServiceSpec("agency", "agency_svc", "/api/v1/agency", holds_personal_data=False),
    ServiceSpec("notify", "notify_svc", "/api/v1/notify", holds_personal_data=True),
)

BY_NAME = {s.name: s for s in SERVICES}
