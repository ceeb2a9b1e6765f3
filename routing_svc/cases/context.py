"""What the case logic needs besides a session."""

from __future__ import annotations

from dataclasses import dataclass

from routing_svc.sla.engine import SlaEngine
from shared.clock import Clock
from shared.identity import NameSeal
from shared.outbox import Outbox


@dataclass(frozen=True)
class CaseContext:
    outbox: Outbox
    clock: Clock
    max_forwards: int
    sla: SlaEngine
    names: NameSeal
