"""routing_svc's context: what the case logic, the SLA sweep and the endpoints need besides a session."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from routing_svc.settings import RoutingSettings
from routing_svc.sla.engine import SlaEngine
from shared.clock import Clock
from shared.files.store import FileStore
from shared.identity import NameSeal
from shared.outbox import Outbox


@dataclass(frozen=True)
class CaseContext:
    settings: RoutingSettings
    outbox: Outbox
    clock: Clock
    sla: SlaEngine
    names: NameSeal
    files: Mapping[str, FileStore] = field(default_factory=dict)
    """A store for each bucket of files, by name: the hub reads them all."""
