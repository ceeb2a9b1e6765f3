"""The four services: their packages, env prefixes and public path prefixes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    package: str
    api_prefixes: tuple[str, ...]
    """The public paths it serves: the first is its own area; it answers the others (`/api/v1/reference`) too."""
    channels: tuple[str, ...]
    """The key rings it shares with other services besides its own keys: `identity` (the reporter's name on the
    broker), `contact` (contact details on their way to notify) and `files` (each stored file's key)."""
    front_door: bool = False
    """It takes the public's submissions: on one machine it keeps its CPU priority while the others, whose work
    is mostly the events behind it, run niced (`simpul up --background-nice`)."""

    @property
    def api_prefix(self) -> str:
        return self.api_prefixes[0]

    @property
    def env_prefix(self) -> str:
        return f"SIMPUL_{self.name.upper()}_"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "intake",
        "intake_svc",
        ("/api/v1/complaints", "/api/v1/channels"),
        channels=("identity", "contact", "files"),
        front_door=True,
    ),
    ServiceSpec("routing", "routing_svc", ("/api/v1/hub", "/api/v1/reference"), channels=("identity", "files")),
    ServiceSpec("agency", "agency_svc", ("/api/v1/agency",), channels=("identity", "files")),
    ServiceSpec("notify", "notify_svc", ("/api/v1/notify",), channels=("contact",)),
)

BY_NAME = {s.name: s for s in SERVICES}
