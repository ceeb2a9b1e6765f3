"""The due-clock sweep: find the clocks whose `next_fire_at` has come (an indexed range query), fire them, commit.

Exactly once, with any number of replicas: a replica takes the cases of the due clocks under a row lock
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serializes writers with BEGIN IMMEDIATE), re-reads their clocks
under that lock, and every firing is recorded on the clock (`warned_at`, `breached_at`, `escalation_level`) in the
same transaction as its events go into the outbox. A replica that comes second finds nothing left due.

A batch's cases fire under one savepoint, their writes sent together; if one of them fails, they are taken again one
by one, each under a savepoint of its own, so that a broken case holds up no other.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from datetime import datetime, timedelta
from importlib.metadata import version

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.cases.context import CaseContext
from routing_svc.cases.lifecycle import Action, Move, apply_transition
from routing_svc.models import Case, SlaClock, SlaSetting
from routing_svc.settings import RoutingSettings
from routing_svc.sla.metrics import SLA_FIRED, SWEEP_SECONDS
from routing_svc.sla.schedule import ACTING_KINDS, TimerKind
from shared.background import Backoff, poll_until_stopped
from shared.db.engine import Database
from shared.db.results import rows_affected
from shared.domain import ClockKind, Status
from shared.events import EventData
from shared.logging import get_logger
from shared.runtime import Runtime

log = get_logger(__name__)

SLA_ACTOR = "hub:sla"
FINGERPRINT_KEY = "schedule_fingerprint"
RETRY_BROKEN = timedelta(minutes=1)


async def sweep_once(db: Database, ctx: CaseContext, limit: int) -> int:
    """Fire what is due now for up to `limit` clocks; returns how many due clocks it saw."""
    now = ctx.clock.now()
    started = time.perf_counter()
    async with db.session() as session:
        due = (
            select(SlaClock.tracking_id)
            .where(SlaClock.next_fire_at <= now)
            .order_by(SlaClock.next_fire_at)
            .limit(limit)
        )
        seen = list((await session.execute(due)).scalars())
        if not seen:
            await session.rollback()
            return 0
        cases = select(Case).where(Case.tracking_id.in_(sorted(set(seen)))).order_by(Case.tracking_id)
        if not db.is_sqlite:
            cases = cases.with_for_update(skip_locked=True)
        locked = list((await session.execute(cases)).scalars())
        tracking_ids = [case.tracking_id for case in locked]
        try:
            # The whole batch under one savepoint: its writes go out together, not a few round trips per case.
            async with session.begin_nested():
                fired = await sweep_cases(session, ctx, locked, await clocks_of(session, tracking_ids), now)
        except Exception as exc:
            log.warning("sla_batch_failed", cases=len(tracking_ids), error=f"{type(exc).__name__}: {exc}")
            fired = await sweep_one_by_one(session, ctx, tracking_ids, now)
        await session.commit()
    SWEEP_SECONDS.observe(time.perf_counter() - started)
    for event in fired:
        SLA_FIRED.labels(event.event_type, getattr(event, "clock", ""), str(getattr(event, "level", ""))).inc()
    return len(seen)


async def sweep_cases(
    session: AsyncSession, ctx: CaseContext, cases: list[Case], clocks: dict[str, list[SlaClock]], now: datetime
) -> list[EventData]:
    """Fire the due clocks of the (locked) cases; their events go to the outbox in as few inserts as their order
    allows. Returns what fired."""
    fired: list[EventData] = []
    pending: list[EventData] = []
    for case in cases:
        fired += await sweep_case(session, ctx, case, now, clocks.get(case.tracking_id, []), pending)
    await ctx.outbox.add(session, *pending)
    return fired


async def sweep_one_by_one(
    session: AsyncSession, ctx: CaseContext, tracking_ids: list[str], now: datetime
) -> list[EventData]:
    """The batch failed: each case again in a savepoint of its own, so that one broken case does not hold up the
    others; a broken one is looked at again later. The cases stay locked (the batch's savepoint is gone, not the
    transaction) and are read again, since the rollback expired what the batch had changed."""
    cases = select(Case).where(Case.tracking_id.in_(tracking_ids)).order_by(Case.tracking_id)
    locked = list((await session.execute(cases.execution_options(populate_existing=True))).scalars())
    clocks = await clocks_of(session, tracking_ids)
    fired: list[EventData] = []
    for case in locked:
        tracking_id = case.tracking_id
        try:
            async with session.begin_nested():
                fired += await sweep_cases(session, ctx, [case], {tracking_id: clocks.get(tracking_id, [])}, now)
        except Exception as exc:
            log.error("sla_case_failed", tracking_id=tracking_id, error=f"{type(exc).__name__}: {exc}")
            await session.execute(
                update(SlaClock)
                .where(SlaClock.tracking_id == tracking_id, SlaClock.next_fire_at <= now)
                .values(next_fire_at=now + RETRY_BROKEN)
                .execution_options(synchronize_session=False)
            )
    return fired


async def clocks_of(session: AsyncSession, tracking_ids: list[str]) -> dict[str, list[SlaClock]]:
    """Every clock of the (locked) cases, each case's in the order they were started, as stored now: one query for
    the batch."""
    found: dict[str, list[SlaClock]] = defaultdict(list)
    if tracking_ids:
        stmt = select(SlaClock).where(SlaClock.tracking_id.in_(tracking_ids)).order_by(SlaClock.id)
        for clock in (await session.execute(stmt.execution_options(populate_existing=True))).scalars():
            found[clock.tracking_id].append(clock)
    return found


async def sweep_case(
    session: AsyncSession,
    ctx: CaseContext,
    case: Case,
    now: datetime,
    clocks: list[SlaClock],
    pending: list[EventData],
) -> list[EventData]:
    """Fire the due clocks of one case (locked by the caller, with all its `clocks` read under that lock), in the
    order they were started; returns what fired. Its events are appended to `pending`, for the caller to put into
    the outbox; if the case moves, what is pending goes there first, before the transition's own events."""
    due = [c for c in clocks if c.next_fire_at is not None and c.next_fire_at <= now]
    fired: list[EventData] = []
    moved = False
    for clock in due:
        now_fired = await ctx.sla.fire(session, case, clock, now)
        pending += now_fired
        fired += now_fired
        running = clock.stopped_at is None and clock.paused_at is None
        if clock.kind in ACTING_KINDS and running and clock.due_at <= now:
            await ctx.outbox.add(session, *pending)  # before the transition's own events, as they happened
            pending.clear()
            await _run_out(session, ctx, case, clock, now)
            moved = True
    if due:
        # A transition may have started clocks: then they are read again.
        pending.append(await ctx.sla.clocks_changed(session, case, now, None if moved else clocks))
    return fired


async def _run_out(session: AsyncSession, ctx: CaseContext, case: Case, clock: SlaClock, now: datetime) -> None:
    """A clock whose end moves the case: the reporter's silence completes or withdraws it; retention archives it."""
    status = Status(case.status)
    days = clock.working_days
    if clock.kind == ClockKind.reporter_response and status is Status.answered:
        action, reason = Action.complete, f"no reply from the reporter within {days} working days of the answer"
    elif clock.kind == ClockKind.reporter_response and status is Status.postponed:
        action, reason = Action.withdraw, f"the reporter added no information within {days} working days"
    elif clock.kind == TimerKind.retention and status is Status.completed:
        action, reason = Action.archive, "past the retention period after completion"
    else:
        log.info("timer_stale", kind=clock.kind, status=case.status)
        ctx.sla.stop(clock, now)
        return
    await apply_transition(session, ctx, case, Move(action, SLA_ACTOR, reason=reason), now=now)


def schedule_fingerprint(settings: RoutingSettings) -> str:
    """What the clocks' deadlines depend on besides the policies: the calendar and the ladder's settings."""
    facts = {
        "holidays": version("holidays"),
        "extra_holidays": sorted(d.isoformat() for d in settings.extra_holidays),
        "extra_working_days": sorted(d.isoformat() for d in settings.extra_working_days),
        "escalation_interval_days": settings.escalation_interval_days,
        "oversight_days": settings.oversight_days,
        "archive_after_days": settings.archive_after_days,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


async def sync_schedule(db: Database, fingerprint: str, now: datetime) -> int:
    """If the calendar or ladder settings changed since the clocks were planned, have every open clock recomputed."""
    async with db.session() as session:
        stored = await session.get(SlaSetting, FINGERPRINT_KEY)
        if stored is not None and stored.value == fingerprint:
            await session.rollback()
            return 0
        result = await session.execute(
            update(SlaClock)
            .where(SlaClock.stopped_at.is_(None))
            .values(recompute=True, next_fire_at=now)
            .execution_options(synchronize_session=False)
        )
        if stored is None:
            session.add(SlaSetting(key=FINGERPRINT_KEY, value=fingerprint))
        else:
            stored.value = fingerprint
        await session.commit()
        marked = rows_affected(result)
        log.info("sla_schedule_changed", clocks_to_recompute=marked)
        return marked


async def sla_worker(runtime: Runtime[CaseContext]) -> None:
    """Sweep for due clocks until the service stops; a failing sweep is logged and tried again."""
    ctx = runtime.context
    settings = ctx.settings
    fingerprint = schedule_fingerprint(settings)
    synced = False

    async def once() -> bool:
        nonlocal synced
        if not synced:
            await sync_schedule(runtime.db, fingerprint, ctx.clock.now())
            synced = True
        return await sweep_once(runtime.db, ctx, settings.sla_sweep_batch) >= settings.sla_sweep_batch

    await poll_until_stopped(
        once,
        stopping=runtime.stopping,
        interval=settings.sla_sweep_interval,
        name="sla_sweep",
        backoff=Backoff(settings.sla_sweep_interval, settings.sla_sweep_interval),
    )
