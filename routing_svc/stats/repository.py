"""The statistics' SQL. A cohort is a subquery of (key, root_path, tracking_id): the cases counted for each key (a
node, or a period bucket) and the path of the subtree they are counted for. Each figure is then one grouped query
over the cohort, for every key at once (definitions in routing_svc/stats/definitions.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import (
    Column,
    ColumnElement,
    Delete,
    MetaData,
    Select,
    String,
    Subquery,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, aliased
from sqlalchemy.schema import CreateTable, DropTable

from routing_svc.models import Assignment, Case, CaseHistory, Node, SlaClock
from routing_svc.stats.periods import Window
from routing_svc.stats.tally import Tally
from shared.db.columns import TRACKING_ID
from shared.db.dialect import dialect_of
from shared.db.results import rows_affected
from shared.domain import Classification, ClockKind, ClockState, Status

HUB_ROOT = "/"
"""Every node's path starts with it: the whole directory as one subtree."""
NODE_CLOCKS = (ClockKind.first_response.value, ClockKind.resolution.value)
DONE = (Status.completed.value, Status.archived.value)
ANALYZED_COHORT = 10_000
"""From this many cases on, the cohort's table gets planner statistics (a sample of it); below, they cost more time
than the better plans they buy."""

ColumnLike = ColumnElement[Any] | QueryableAttribute[Any]
Ts = TypeVarTuple("Ts")


def under(path: ColumnLike, root: ColumnLike | str) -> ColumnElement[bool]:
    """`path` is `root` or below it: an exact prefix test (LIKE ignores case on SQLite and reads '_' as a wildcard)."""
    length = len(root) if isinstance(root, str) else func.length(root)
    return func.substr(path, 1, length) == root


def within(path: ColumnLike, roots: Sequence[str]) -> ColumnElement[bool]:
    """A LIKE on constant prefixes that PostgreSQL answers from the path index; `under` stays the exact test."""
    tops = sorted({r for r in roots if not any(o != r and r.startswith(o) for o in roots)})
    return or_(*(path.startswith(r, autoescape=True) for r in tops))


def in_subtree(path: ColumnLike, root: str) -> ColumnElement[bool]:
    """`path` is at or below the constant `root`: `under`, with `within` for the index. For the whole hub it is no
    condition at all (every path starts with "/"), which spares the planner a filter it cannot estimate."""
    if root == HUB_ROOT:
        return true()
    return and_(under(path, root), within(path, [root]))


def _entered_in(stmt: Select[*Ts], window: Window) -> Select[*Ts]:
    """Keep the cases whose first disposition into the subtree (min dispositioned_at of the group) is in `window`."""
    if window.end is not None:
        stmt = stmt.where(Assignment.dispositioned_at < window.end)
    if window.start is not None:
        stmt = stmt.having(func.min(Assignment.dispositioned_at) >= window.start)
    return stmt


def node_cohort(roots: Sequence[Node], window: Window) -> Subquery:
    """For each of `roots`: the cases that entered its subtree in `window`; key = the root's code."""
    root, member = aliased(Node), aliased(Node)
    stmt = (
        select(root.code.label("key"), root.path.label("root_path"), Assignment.tracking_id.label("tracking_id"))
        .select_from(root)
        .join(member, under(member.path, root.path))
        .join(Assignment, Assignment.agency_code == member.code)
        .where(root.code.in_([n.code for n in roots]), within(member.path, [n.path for n in roots]))
        .group_by(root.code, root.path, Assignment.tracking_id)
    )
    return _entered_in(stmt, window).subquery("cohort")


def _subtree_entries(root_path: str, period: Window) -> Subquery:
    """(tracking_id, entered) of the cases that entered the subtree at `root_path` in `period`.

    A case enters in the period only if one of its stays in the subtree began in it, so the cases are first looked
    for among those stays (an index range on dispositioned_at), and only theirs are grouped.
    """
    member, began, began_at = aliased(Node), aliased(Assignment), aliased(Node)
    entered = func.min(Assignment.dispositioned_at)
    stays_begun = select(began.tracking_id).join(began_at, began_at.code == began.agency_code)
    stays_begun = stays_begun.where(in_subtree(began_at.path, root_path))
    if period.start is not None:
        stays_begun = stays_begun.where(began.dispositioned_at >= period.start)
    if period.end is not None:
        stays_begun = stays_begun.where(began.dispositioned_at < period.end)
    return _entered_in(
        select(Assignment.tracking_id.label("tracking_id"), entered.label("entered"))
        .join(member, member.code == Assignment.agency_code)
        .where(in_subtree(member.path, root_path), Assignment.tracking_id.in_(stays_begun))
        .group_by(Assignment.tracking_id),
        period,
    ).subquery("entries")


def bucket_cohort(root_path: str, buckets: Sequence[Window]) -> Subquery:
    """The cases that entered the subtree at `root_path` ("/" for the whole hub) in the buckets; key = bucket index."""
    entries = _subtree_entries(root_path, Window(buckets[0].start, buckets[-1].end))
    key = case(*((entries.c.entered < w.end, index) for index, w in enumerate(buckets)))
    return select(key.label("key"), literal(root_path, String).label("root_path"), entries.c.tracking_id).subquery(
        "cohort"
    )


def channel_cohort(root_path: str, window: Window) -> Subquery:
    """The cases that entered the subtree at `root_path` in `window`; key = the channel they came by."""
    entries = _subtree_entries(root_path, window)
    return (
        select(Case.channel.label("key"), literal(root_path, String).label("root_path"), entries.c.tracking_id)
        .join(Case, Case.tracking_id == entries.c.tracking_id)
        .subquery("cohort")
    )


@asynccontextmanager
async def materialized(session: AsyncSession, cohort: Subquery) -> AsyncIterator[Table]:
    """The cohort computed once, into a temporary table of the session's connection, for the figures to share.

    On PostgreSQL the transaction also runs without JIT compilation, which costs these queries more than it saves.
    """
    table = Table(
        "stats_cohort",
        MetaData(),
        Column("key", cohort.c.key.type),
        Column("root_path", String(2000)),
        Column("tracking_id", TRACKING_ID),
        prefixes=["TEMPORARY"],
    )
    postgres = dialect_of(session) == "postgresql"
    if postgres:
        await session.execute(text("SET LOCAL jit = off"))
    await session.execute(CreateTable(table))  # on an error, the rollback of the transaction takes it away
    columns = ["key", "root_path", "tracking_id"]
    filled = await session.execute(insert(table).from_select(columns, select(*(cohort.c[n] for n in columns))))
    await session.execute(_out_of_the_accused_line(table))
    if postgres and rows_affected(filled) >= ANALYZED_COHORT:
        await session.execute(text("ANALYZE stats_cohort"))
    yield table
    await session.execute(DropTable(table))


def _out_of_the_accused_line(cohort: Table) -> Delete:
    """A whistleblowing case counts under no node in its accused's line (the accused, a node above it or below it,
    the holder included): only in the figures of other nodes and of the whole hub (routing_svc/cases/wbs.py)."""
    c, accused = cohort.c, aliased(Node)
    return delete(cohort).where(
        c.root_path != HUB_ROOT,
        exists().where(
            Case.accused_agency_code.is_not(None),  # the partial index: the few WBS reports, not every case
            Case.tracking_id == c.tracking_id,
            Case.classification == Classification.wbs.value,
            accused.code == Case.accused_agency_code,
            or_(under(accused.path, c.root_path), under(c.root_path, accused.path)),
        ),
    )


async def tally(
    session: AsyncSession, cohort: Subquery, now: datetime, root_path: str | None = None
) -> dict[Any, Tally]:
    """Every figure for every key of `cohort`; `now` judges the running clocks. `root_path`: the subtree every key
    counts for, when it is one (a bucket cohort); else each key's own (its `root_path` column)."""
    async with materialized(session, cohort) as table:
        return await _tally(session, table, now, root_path)


async def _tally(session: AsyncSession, cohort: Table, now: datetime, root_path: str | None) -> dict[Any, Tally]:
    c = cohort.c
    member = aliased(Node)
    tallies: dict[Any, Tally] = defaultdict(Tally)

    def held_by_subtree(code: ColumnLike) -> ColumnElement[bool]:
        if root_path is not None:
            return and_(member.code == code, in_subtree(member.path, root_path))
        return and_(member.code == code, under(member.path, c.root_path))

    for key, received in await session.execute(select(c.key, func.count()).group_by(c.key)):
        tallies[key].received = int(received)

    followed = (
        select(c.key)
        .join(Assignment, Assignment.tracking_id == c.tracking_id)
        .join(member, held_by_subtree(Assignment.agency_code))
        .where(Assignment.first_followup_at.is_not(None))
        .group_by(c.key, c.tracking_id)  # one row per case: counted without a DISTINCT (a sort) per key
        .subquery("followed")
    )
    for key, count in await session.execute(select(followed.c.key, func.count()).group_by(followed.c.key)):
        tallies[key].followed_up = int(count)

    held = (
        select(
            c.key, func.sum(case((Case.status.in_(DONE), 1), else_=0)), func.count(Case.rating), func.avg(Case.rating)
        )
        .join(Case, Case.tracking_id == c.tracking_id)
        .join(member, held_by_subtree(Case.agency_code))
        .group_by(c.key)
    )
    for key, completed, rated, mean in await session.execute(held):
        t = tallies[key]
        t.completed, t.rated, t.mean_rating = int(completed or 0), int(rated), float(mean) if mean is not None else None

    late = and_(SlaClock.stopped_at.is_(None), SlaClock.paused_at.is_(None), SlaClock.due_at < now)
    ended_by_rejection = exists().where(
        CaseHistory.tracking_id == SlaClock.tracking_id,
        CaseHistory.to_status == Status.rejected.value,
        CaseHistory.at == SlaClock.stopped_at,
    )
    met = and_(SlaClock.state == ClockState.met.value, ~ended_by_rejection)
    breached = or_(SlaClock.state == ClockState.breached.value, late)
    per_case = (
        select(
            c.key,
            func.max(case((late, 1), else_=0)).label("late"),
            func.sum(case((met, 1), else_=0)).label("met"),
            func.sum(case((breached, 1), else_=0)).label("breached"),
        )
        .join(SlaClock, SlaClock.tracking_id == c.tracking_id)
        .join(member, held_by_subtree(SlaClock.agency_code))
        .where(SlaClock.kind.in_(NODE_CLOCKS))
        .group_by(c.key, c.tracking_id)
        .subquery("case_clocks")
    )
    k = per_case.c
    clocks = select(k.key, func.sum(k.late), func.sum(k.met), func.sum(k.breached)).group_by(k.key)
    for key, overdue, met_count, breached_count in await session.execute(clocks):
        t = tallies[key]
        t.overdue, t.sla_met, t.sla_breached = int(overdue or 0), int(met_count or 0), int(breached_count or 0)

    responses = (
        select(
            c.key,
            Assignment.first_response_working_days,
            Assignment.dispositioned_at,
            Assignment.acknowledged_at,
            Assignment.first_followup_at,
        )
        .join(Assignment, Assignment.tracking_id == c.tracking_id)
        .join(member, held_by_subtree(Assignment.agency_code))
        .where(
            or_(
                Assignment.first_response_working_days.is_not(None),
                Assignment.acknowledged_at.is_not(None),
                Assignment.first_followup_at.is_not(None),
            )
        )
    )
    for key, days, dispositioned_at, acknowledged_at, first_followup_at in await session.execute(responses):
        t = tallies[key]
        if days is not None:
            t.response_days.append(float(days))
        answers = [at for at in (acknowledged_at, first_followup_at) if at is not None]
        if answers:
            t.response_hours.append(max((min(answers) - dispositioned_at).total_seconds(), 0.0) / 3600)
    return tallies
