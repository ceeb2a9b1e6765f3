"""Keeping each case's clocks from sla.clocks_changed, and the part of them an agency key sees.

The event may come before the case's disposition, or for a case no agency holds (triage): it is stored anyway,
keyed by tracking id, and shown once the case is in a key's inbox. `clocks_version` orders the events per case.

A key sees only the clocks of the nodes in its subtree (the holder's and, say, a delegating Kanwil's): never the
hub's own (agency_code null, e.g. verification) nor another branch's (a previous holder's). The escalation level
it sees is the highest rung those clocks reached. A clock "runs" until it stops: a breached clock that has not
stopped is still running, and past due.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.clocks import repository as repo
from agency_svc.directory.repository import paths_of
from agency_svc.directory.service import Scope
from shared.domain import ClockState
from shared.events.contracts import ClockView, SlaClocksChanged
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class ShownClocks:
    """What one key sees of one case's clocks."""

    clocks: list[ClockView] = field(default_factory=list)
    escalation_level: int = 0
    next_due_at: datetime | None = None
    """The earliest due time among the running, unpaused clocks shown."""


NO_CLOCKS = ShownClocks()


def is_running(clock: ClockView) -> bool:
    return clock.stopped_at is None and clock.state is not ClockState.met


async def apply_clocks_changed(session: AsyncSession, data: SlaClocksChanged) -> None:
    """Store the case's clocks unless a newer (or the same) clocks_version is already stored."""
    clocks = data.clocks
    applied = await repo.upsert_if_newer(
        session,
        {
            "tracking_id": data.tracking_id,
            "clocks": [c.model_dump(mode="json") for c in clocks],
            "escalation_level": data.escalation_level,
            "clocks_version": data.clocks_version,
            "expected_answer_by": data.expected_answer_by,
            "updated_at": data.changed_at,
        },
    )
    if not applied:
        log.info("stale_clocks_ignored", clocks_version=data.clocks_version)
        return
    deadlines = [
        (position, c.agency_code, c.due_at)
        for position, c in enumerate(clocks)
        if c.agency_code is not None and is_running(c) and not c.paused
    ]
    await repo.replace_deadlines(session, data.tracking_id, deadlines)
    log.info("clocks_applied", clocks_version=data.clocks_version, clocks=len(clocks), running=len(deadlines))


def _shown(clocks: list[ClockView]) -> ShownClocks:
    due = [c.due_at for c in clocks if is_running(c) and not c.paused]
    return ShownClocks(
        clocks=clocks,
        escalation_level=max((c.escalation_level for c in clocks), default=0),
        next_due_at=min(due, default=None),
    )


async def shown_clocks(session: AsyncSession, scope: Scope, tracking_ids: Iterable[str]) -> dict[str, ShownClocks]:
    """What `scope` sees of each case's clocks; a case with no clocks stored is left out (see NO_CLOCKS)."""
    rows = await repo.clocks_of(session, tracking_ids)
    stored = {tid: [ClockView.model_validate(c) for c in row.clocks] for tid, row in rows.items()}
    paths = await paths_of(session, {c.agency_code for cs in stored.values() for c in cs if c.agency_code})
    return {
        tid: _shown([c for c in cs if c.agency_code and scope.covers(c.agency_code, paths.get(c.agency_code))])
        for tid, cs in stored.items()
    }
