"""The daily digest job. On each working day, once the digest hour has come in a timezone, every node with liaison
officers in that timezone gets one digest of its overdue and due-soon cases (its running clocks, as the latest
sla.clocks_changed of each case had them). A node with neither gets none.

Once per node, timezone and local date: the `digests` row is inserted first (insert-or-ignore on its key), so a restart,
a second pass or a second replica finds it and makes nothing; and each officer's notification has a deterministic
event id besides. The officers registered after their node's digest was made get the next one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.cases.repository import deadlines_of_node
from notify_svc.models import Base, Digest, RecipientKind
from notify_svc.notifications.service import Addressee, Notice, enqueue
from notify_svc.notifications.triggers import DIGEST
from notify_svc.recipients import repository as recipients
from notify_svc.settings import NotifySettings
from shared.background import Backoff, finish_even_if_cancelled, poll_until_stopped
from shared.calendar import WorkingCalendar, zone
from shared.db.dialect import dialect_of, insert_ignore
from shared.db.results import rows_affected
from shared.logging import get_logger
from shared.runtime import Runtime

log = get_logger(__name__)

EVENT_TYPE = "notify.digest"
_NAMESPACE = uuid.UUID("0b5e7f0a-93c1-5d44-8a2e-6c1f9d3b7e21")
_DIGESTS = Base.metadata.tables[Digest.__tablename__]


async def made_on(session: AsyncSession, days: set[date]) -> set[tuple[str, str, date]]:
    """The digests already made on these days, as (node_code, timezone, day)."""
    if not days:
        return set()
    rows = await session.execute(select(Digest.node_code, Digest.timezone, Digest.day).where(Digest.day.in_(days)))
    return {(code, tz, day) for code, tz, day in rows}


def digest_event_id(node_code: str, timezone: str, day: date) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"digest:{node_code}:{timezone}:{day.isoformat()}"))


@dataclass
class DigestJob:
    settings: NotifySettings
    calendar: WorkingCalendar

    async def run(self, runtime: Runtime[Any]) -> None:
        """Loop until the service stops: make what digests are due, then wait for the poll interval."""

        async def once() -> bool:
            await finish_even_if_cancelled(self.run_once(runtime, runtime.clock.now()))
            return False

        poll = self.settings.digest_poll_seconds
        await poll_until_stopped(
            once, stopping=runtime.stopping, interval=poll, name="digest", backoff=Backoff(poll, poll)
        )

    async def run_once(self, runtime: Runtime[Any], now: datetime) -> int:
        """Make every digest due at `now` that is not made yet; how many were made."""
        hour = self.settings.digest_hour
        if hour is None:
            return 0
        async with runtime.db.session() as session:
            due = [
                (node_code, timezone, local.date())
                for node_code, timezone in await recipients.liaison_groups(session)
                if (local := now.astimezone(zone(timezone))).hour >= hour and self.calendar.is_working_day(local.date())
            ]
            done = await made_on(session, {day for _, _, day in due})
        made = 0
        for node_code, timezone, day in due:
            if (node_code, timezone, day) not in done:
                async with runtime.db.session() as session, session.begin():
                    made += await self.make(session, node_code, timezone, day, now)
        return made

    async def make(self, session: AsyncSession, node_code: str, timezone: str, day: date, now: datetime) -> int:
        """The node's digest for `day`, unless it was made already; 1 if made (sent or, with nothing to say, not)."""
        claimed = await session.execute(
            insert_ignore(dialect_of(session), _DIGESTS).values(
                node_code=node_code, timezone=timezone, day=day, overdue=0, due_soon=0, created_at=now
            )
        )
        if rows_affected(claimed) != 1:
            return 0
        until = self.calendar.add_working_days(now, self.settings.digest_due_soon_days, timezone)
        deadlines = await deadlines_of_node(session, node_code, until)
        overdue = [d for d in deadlines if d.due_at <= now]
        due_soon = [d for d in deadlines if d.due_at > now]
        digest = await session.get(Digest, (node_code, timezone, day))
        assert digest is not None  # inserted above
        digest.overdue, digest.due_soon = len(overdue), len(due_soon)
        log.info("digest_made", node_code=node_code, day=day.isoformat(), overdue=len(overdue), due_soon=len(due_soon))
        if not deadlines:
            return 1
        cap = self.settings.digest_max_cases
        context: dict[str, Any] = {
            "node_code": node_code,
            "day": day.isoformat(),
            "due_soon_days": self.settings.digest_due_soon_days,
            "overdue": [_line(d.tracking_id, d.clock, d.due_at) for d in overdue[:cap]],
            "overdue_total": len(overdue),
            "due_soon": [_line(d.tracking_id, d.clock, d.due_at) for d in due_soon[:cap]],
            "due_soon_total": len(due_soon),
        }
        notice = Notice(
            event_id=digest_event_id(node_code, timezone, day),
            event_type=EVENT_TYPE,
            template=DIGEST,
            tracking_id=None,
            context=context,
        )
        for r in await recipients.in_scope(session, recipients.node_scope(node_code)):
            if r.timezone == timezone:
                await enqueue(session, notice, Addressee(RecipientKind.liaison, r.id), now=now)
        return 1


def _line(tracking_id: str, clock: str, due_at: datetime) -> dict[str, str]:
    return {"tracking_id": tracking_id, "clock": clock, "due_at": due_at.isoformat()}
