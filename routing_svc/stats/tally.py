"""The raw figures of one statistics key (a node or a period bucket), before rounding (service.figures)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Tally:
    """The raw figures of one key."""

    received: int = 0
    followed_up: int = 0
    completed: int = 0
    overdue: int = 0
    sla_met: int = 0
    sla_breached: int = 0
    rated: int = 0
    mean_rating: float | None = None
    response_days: list[float] = field(default_factory=list)
    response_hours: list[float] = field(default_factory=list)
