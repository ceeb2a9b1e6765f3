"""The hub-wide statistics from facts kept per case (case_facts) and per answered stay (stay_facts).

Counting the whole hub from the cases, stays and clocks joins four tables of a million rows each; so each case's
share of the figures (definitions.py, the whole directory as the subtree) is kept in one narrow row, computed again
from those tables whenever the case, one of its stays, clocks or history rows is written, in the same transaction:
a session hook collects the cases a flush touches and refreshes their facts before the transaction commits. The
part of a figure that depends on the time of asking is kept as an instant (`overdue_from`: the earliest deadline of
the case's running node clocks) or read at that time (the few running clocks not yet marked breached).

Writes that bypass the ORM's units of work (bulk UPDATE statements) touch no column these facts read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVarTuple, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    event,
    exists,
    func,
    insert,
    inspect,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction, aliased

from routing_svc.models import Assignment, Case, CaseFacts, CaseHistory, Node, SlaClock, StayFacts
from routing_svc.stats.periods import Window
from routing_svc.stats.repository import DONE, NODE_CLOCKS
from routing_svc.stats.tally import Tally
from shared.db.dialect import dialect_of
from shared.domain import ClockState, Status

Ts = TypeVarTuple("Ts")
CHUNK = 500
"""Cases refreshed per statement (SQLite caps the bound parameters of one statement)."""
TOUCHED = "routing_stats_touched"
"""session.info key: the tracking ids of the cases the session's flushes wrote."""
READ: dict[type, tuple[str, ...]] = {
    Case: ("status", "agency_code", "rating"),
    Assignment: (
        "tracking_id",
        "agency_code",
        "dispositioned_at",
        "acknowledged_at",
        "first_followup_at",
        "first_response_working_days",
    ),
    SlaClock: ("tracking_id", "kind", "agency_code", "state", "due_at", "stopped_at", "paused_at"),
    CaseHistory: ("tracking_id", "to_status", "at"),
}
"""The columns of each table the facts are computed from: a flush that changes none of a row's leaves them be."""
WATCHED = (Case, Assignment, SlaClock, CaseHistory)
ABOVE_HALF = 0.5 + 1e-9
"""Of an even count of values (below 5e8), percentile_disc(0.5) is the lower middle one and percentile_disc(ABOVE_HALF)
the upper one; of an odd count, both are the middle one."""


# Keeping the facts --------------------------------------------------------------------------------------------------


def _ids() -> BindParameter[Any]:
    """The tracking ids of the cases a statement is for, given when it runs (`tracking_ids`)."""
    return bindparam("tracking_ids", expanding=True)


def _filtered(stmt: Select[*Ts], column: Any, every: bool) -> Select[*Ts]:
    return stmt if every else stmt.where(column.in_(_ids()))


def _entries(every: bool) -> Any:
    """Per case with a node stay: when it first entered the hub, and whether a node followed it up."""
    member = aliased(Node)
    stmt = (
        select(
            Assignment.tracking_id.label("tracking_id"),
            func.min(Assignment.dispositioned_at).label("entered_at"),
            func.max(case((Assignment.first_followup_at.is_not(None), 1), else_=0)).label("followed_up"),
        )
        .join(member, member.code == Assignment.agency_code)
        .group_by(Assignment.tracking_id)
    )
    return _filtered(stmt, Assignment.tracking_id, every).subquery("entries")


def case_facts_select(every: bool) -> Select[Any]:
    """The case_facts rows of the cases (`tracking_ids`, or every case), from the cases, stays, clocks and history."""
    entries = _entries(every)
    member, holder = aliased(Node), aliased(Node)
    ended_by_rejection = exists().where(
        CaseHistory.tracking_id == SlaClock.tracking_id,
        CaseHistory.to_status == Status.rejected.value,
        CaseHistory.at == SlaClock.stopped_at,
    )
    running = and_(SlaClock.stopped_at.is_(None), SlaClock.paused_at.is_(None))
    clocks = (
        select(
            SlaClock.tracking_id.label("tracking_id"),
            func.sum(case((and_(SlaClock.state == ClockState.met.value, ~ended_by_rejection), 1), else_=0)).label(
                "met"
            ),
            func.sum(case((SlaClock.state == ClockState.breached.value, 1), else_=0)).label("breached"),
            func.min(case((running, SlaClock.due_at))).label("overdue_from"),
        )
        .join(member, member.code == SlaClock.agency_code)
        .where(SlaClock.kind.in_(NODE_CLOCKS))
        .group_by(SlaClock.tracking_id)
    )
    clocks_sq = _filtered(clocks, SlaClock.tracking_id, every).subquery("clocks")
    held = holder.code.is_not(None)
    return (
        select(
            Case.tracking_id,
            entries.c.entered_at,
            entries.c.followed_up,
            case((and_(held, Case.status.in_(DONE)), 1), else_=0),
            case((held, Case.rating)),
            func.coalesce(clocks_sq.c.met, 0),
            func.coalesce(clocks_sq.c.breached, 0),
            clocks_sq.c.overdue_from,
        )
        .join(entries, entries.c.tracking_id == Case.tracking_id)
        .outerjoin(holder, holder.code == Case.agency_code)
        .outerjoin(clocks_sq, clocks_sq.c.tracking_id == Case.tracking_id)
    )


def stay_facts_select(every: bool) -> Select[Any]:
    """The stay_facts rows of the answered stays with nodes of the cases (`tracking_ids`, or every case)."""
    entries = _entries(every)
    member = aliased(Node)
    ack, followup = Assignment.acknowledged_at, Assignment.first_followup_at
    answered = case(
        (ack.is_(None), followup),
        (followup.is_(None), ack),
        (ack <= followup, ack),
        else_=followup,
    )
    stmt = (
        select(
            Assignment.id,
            Assignment.tracking_id,
            entries.c.entered_at,
            Assignment.first_response_working_days,
            Assignment.dispositioned_at,
            answered,
        )
        .join(member, member.code == Assignment.agency_code)
        .join(entries, entries.c.tracking_id == Assignment.tracking_id)
        .where(or_(Assignment.first_response_working_days.is_not(None), ack.is_not(None), followup.is_not(None)))
    )
    return _filtered(stmt, Assignment.tracking_id, every)


CASE_FACTS = cast(Table, CaseFacts.__table__)
STAY_FACTS = cast(Table, StayFacts.__table__)
CASE_CHANNEL: ColumnElement[str] = cast(Table, Case.__table__).c.channel
"""The tables, not the ORM classes: their statements take the tracking ids as a parameter, not as rows."""
CASE_COLUMNS = [
    "tracking_id",
    "entered_at",
    "followed_up",
    "completed",
    "rating",
    "sla_met",
    "sla_breached",
    "overdue_from",
]
STAY_COLUMNS = [
    "assignment_id",
    "tracking_id",
    "entered_at",
    "response_working_days",
    "dispositioned_at",
    "answered_at",
]


def refresh_statements(*, every: bool = False, stays: bool = True) -> list[Any]:
    """What makes the facts of the cases (`tracking_ids`, or every case) what their rows say now; `stays`: their
    stays' too (only their stays decide those)."""
    tables = (STAY_FACTS, CASE_FACTS) if stays else (CASE_FACTS,)
    statements: list[Any] = [delete(t) if every else delete(t).where(t.c.tracking_id.in_(_ids())) for t in tables]
    statements.append(insert(CASE_FACTS).from_select(CASE_COLUMNS, case_facts_select(every)))
    if stays:
        statements.append(insert(STAY_FACTS).from_select(STAY_COLUMNS, stay_facts_select(every)))
    return statements


REFRESH = {stays: refresh_statements(stays=stays) for stays in (False, True)}
"""Built once: building them costs more than running them for a case."""


def refresh(session: Session, tracking_ids: Iterable[str], *, stays: Iterable[str] = ()) -> None:
    """Compute again the facts of the cases, and of the stays of the cases in `stays`."""
    with_stays = set(stays)
    for ids, also_stays in ((set(tracking_ids) - with_stays, False), (with_stays, True)):
        for chunk in _chunks(sorted(ids)):
            for statement in REFRESH[also_stays]:
                session.execute(statement, {"tracking_ids": chunk})


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]


def _changed(obj: Any) -> bool:
    """Whether the flush writes something of the (persistent) `obj` that the facts read."""
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in READ[type(obj)])


@event.listens_for(Session, "before_flush")
def _collect(session: Session, _context: Any, _instances: Any) -> None:
    changed = [obj for obj in session.dirty if isinstance(obj, WATCHED) and _changed(obj)]
    for obj in (*session.new, *session.deleted, *changed):  # a new or deleted row always counts
        if isinstance(obj, WATCHED):
            touched = session.info.setdefault(TOUCHED, (set(), set()))
            touched[0].add(obj.tracking_id)
            if isinstance(obj, Assignment):
                touched[1].add(obj.tracking_id)


@event.listens_for(Session, "before_commit")
def _refresh_touched(session: Session) -> None:
    session.flush()  # what is still pending, so that the facts are computed from the rows as they will commit
    touched: tuple[set[str], set[str]] | None = session.info.pop(TOUCHED, None)
    if touched:
        refresh(session, touched[0], stays=touched[1])


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # a savepoint's end keeps what the transaction around it touched
        session.info.pop(TOUCHED, None)


# Counting from the facts -----------------------------------------------------------------------------------------


def per_bucket(aggregates: Sequence[Any], entered: Any, buckets: Sequence[Window]) -> CompoundSelect[Any]:
    """(bucket index, *aggregates) for each bucket: one aggregate over a range of the entry index per bucket, rather
    than every row of the period given its bucket and grouped by it."""
    return union_all(
        *(
            select(literal(index).label("key"), *aggregates).where(*_in_period(entered, [w]))
            for index, w in enumerate(buckets)
        )
    )


def _bucket_key(entered: Any, buckets: Sequence[Window]) -> ColumnElement[Any]:
    return case(*((entered < w.end, index) for index, w in enumerate(buckets)))


def _in_period(entered: Any, buckets: Sequence[Window]) -> list[ColumnElement[bool]]:
    found = []
    if buckets[0].start is not None:
        found.append(entered >= buckets[0].start)
    if buckets[-1].end is not None:
        found.append(entered < buckets[-1].end)
    return found


def _median(count: int, low: Any, high: Any) -> Any:
    return low if count % 2 else (low + high) / 2


def _hours(dispositioned_at: datetime, answered_at: datetime) -> float:
    return max((answered_at - dispositioned_at).total_seconds(), 0.0) / 3600


class _PerBucket:
    """The whole hub's figures per period bucket (key = the bucket's index)."""

    def __init__(self, buckets: Sequence[Window]):
        self.buckets = buckets

    def aggregated(self, aggregates: Sequence[Any], entered: Any, tracking_id: Any) -> Any:
        return per_bucket(aggregates, entered, self.buckets)

    def key(self, entered: Any) -> ColumnElement[Any]:
        return _bucket_key(entered, self.buckets)

    def keyed(self, stmt: Select[*Ts], entered: Any, tracking_id: Any) -> Select[*Ts]:
        return stmt.where(*_in_period(entered, self.buckets))


class _PerChannel:
    """The whole hub's figures per channel (key = the case's channel) for one period: the facts with their cases."""

    def __init__(self, window: Window):
        self.window = [window]

    def aggregated(self, aggregates: Sequence[Any], entered: Any, tracking_id: Any) -> Any:
        stmt = select(Case.channel.label("key"), *aggregates).join(Case, Case.tracking_id == tracking_id)
        return stmt.where(*_in_period(entered, self.window)).group_by(Case.channel)

    def key(self, entered: Any) -> ColumnElement[Any]:
        return CASE_CHANNEL

    def keyed(self, stmt: Select[*Ts], entered: Any, tracking_id: Any) -> Select[*Ts]:
        return stmt.join(Case, Case.tracking_id == tracking_id).where(*_in_period(entered, self.window))


Grouping = _PerBucket | _PerChannel


async def hub_tally(session: AsyncSession, buckets: Sequence[Window], now: datetime) -> dict[int, Tally]:
    """Every figure of the whole hub per bucket (key = bucket index), as repository.tally counts them."""
    return await _facts_tally(session, _PerBucket(buckets), now)


async def channel_tally(session: AsyncSession, window: Window, now: datetime) -> dict[str, Tally]:
    """Every figure of the whole hub per channel (key = the channel) of the cases that entered it in `window`."""
    return await _facts_tally(session, _PerChannel(window), now)


async def _facts_tally(session: AsyncSession, grouping: Grouping, now: datetime) -> dict[Any, Tally]:
    postgres = dialect_of(session) == "postgresql"
    if postgres:  # custom plans (a period's bounds decide the plan), the sorts in memory, no JIT compilation
        for setting in ("plan_cache_mode = force_custom_plan", "work_mem = '64MB'", "jit = off"):
            await session.execute(text(f"SET LOCAL {setting}"))
    f = CaseFacts.__table__.c
    tallies: dict[Any, Tally] = defaultdict(Tally)
    counts = (
        func.count(),
        func.sum(f.followed_up),
        func.sum(f.completed),
        func.sum(case((f.overdue_from < now, 1), else_=0)),
        func.sum(f.sla_met),
        func.sum(f.sla_breached),
        func.count(f.rating),
        func.avg(f.rating),
    )
    for k, received, followed, completed, overdue, met, breached, rated, mean in await session.execute(
        grouping.aggregated(counts, f.entered_at, f.tracking_id)
    ):
        t = tallies[k]
        t.received, t.followed_up, t.completed = int(received), int(followed or 0), int(completed or 0)
        t.overdue, t.sla_met, t.sla_breached = int(overdue or 0), int(met or 0), int(breached or 0)
        t.rated, t.mean_rating = int(rated), float(mean) if mean is not None else None

    key = grouping.key(f.entered_at)
    member = aliased(Node)
    late = grouping.keyed(
        select(key.label("key"), func.count())
        .select_from(SlaClock)
        .join(CaseFacts, CaseFacts.tracking_id == SlaClock.tracking_id)
        .join(member, member.code == SlaClock.agency_code)
        .where(
            SlaClock.stopped_at.is_(None),
            SlaClock.paused_at.is_(None),
            SlaClock.state != ClockState.breached.value,
            SlaClock.due_at < now,
            SlaClock.kind.in_(NODE_CLOCKS),
        ),
        f.entered_at,
        f.tracking_id,
    ).group_by(key)
    for k, count in await session.execute(late):
        tallies[k].sla_breached += int(count)

    if postgres:
        await _medians_in_sql(session, grouping, tallies)
    else:
        await _medians_here(session, grouping, tallies)
    return tallies


async def _medians_in_sql(session: AsyncSession, grouping: Grouping, tallies: dict[Any, Tally]) -> None:
    """The medians' middle values found by the database, each key sorting its own values, instead of every value
    sent here."""
    s = StayFacts.__table__.c
    days_of = s.response_working_days
    waited = func.greatest(s.answered_at - s.dispositioned_at, literal_column("interval '0'"))
    middle = array([0.5, ABOVE_HALF])
    medians = (
        func.count(days_of),
        func.percentile_disc(middle).within_group(days_of),
        func.count(s.answered_at),
        func.percentile_disc(middle).within_group(waited),
    )
    for k, n_days, days, n_hours, waits in await session.execute(
        grouping.aggregated(medians, s.entered_at, s.tracking_id)
    ):
        t = tallies[k]
        # The median itself, as the one value its list holds: the median of one value is that value.
        if n_days:
            t.response_days = [_median(n_days, float(days[0]), float(days[1]))]
        if n_hours:
            t.response_hours = [_median(n_hours, waits[0].total_seconds() / 3600, waits[1].total_seconds() / 3600)]


async def _medians_here(session: AsyncSession, grouping: Grouping, tallies: dict[Any, Tally]) -> None:
    """The medians' values read here (SQLite has no percentile)."""
    s = StayFacts.__table__.c
    stmt = grouping.keyed(
        select(grouping.key(s.entered_at), s.response_working_days, s.dispositioned_at, s.answered_at).select_from(
            StayFacts
        ),
        s.entered_at,
        s.tracking_id,
    )
    for k, days, dispositioned_at, answered_at in await session.execute(stmt):
        t = tallies[k]
        if days is not None:
            t.response_days.append(float(days))
        if answered_at is not None:
            t.response_hours.append(_hours(dispositioned_at, answered_at))
