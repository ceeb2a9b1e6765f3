"""The statistics' SQL. A cohort is a subquery of (key, root_path, tracking_id): the cases counted for each key (a
node, or a period bucket) and the path of the subtree they are counted for. Each figure is then one grouped query
over the cohort, for every key at once (definitions in routing_svc/stats/definitions.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Subquery,
    and_,
    case,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, aliased

from routing_svc.models import Assignment, Case, CaseHistory, Node, SlaClock
from routing_svc.stats.periods import Window
from routing_svc.timeutil import as_utc
from shared.domain import ClockKind, ClockState, Status

NODE_CLOCKS = (ClockKind.first_response.value, ClockKind.resolution.value)
DONE = (Status.completed.value, Status.archived.value)

ColumnLike = ColumnElement[Any] | QueryableAttribute[Any]
Ts = TypeVarTuple("Ts")


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


def under(path: ColumnLike, root: ColumnLike | str) -> ColumnElement[bool]:
    """`path` is `root` or below it: an exact prefix test (LIKE ignores case on SQLite and reads '_' as a wildcard)."""
    length = len(root) if isinstance(root, str) else func.length(root)
    return func.substr(path, 1, length) == root


def within(path: ColumnLike, roots: Sequence[str]) -> ColumnElement[bool]:
    """A LIKE on constant prefixes that PostgreSQL answers from the path index; `under` stays the exact test."""
    tops = sorted({r for r in roots if not any(o != r and r.startswith(o) for o in roots)})
    return or_(*(path.startswith(r, autoescape=True) for r in tops))


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


def bucket_cohort(root_path: str, buckets: Sequence[Window]) -> Subquery:
    """The cases that entered the subtree at `root_path` ("/" for the whole hub) in the buckets; key = bucket index."""
    member = aliased(Node)
    entered = func.min(Assignment.dispositioned_at)
    entries = _entered_in(
        select(Assignment.tracking_id.label("tracking_id"), entered.label("entered"))
        .join(member, member.code == Assignment.agency_code)
        .where(under(member.path, root_path), within(member.path, [root_path]))
        .group_by(Assignment.tracking_id),
        Window(buckets[0].start, buckets[-1].end),
    ).subquery("entries")
    key = case(*((entries.c.entered < w.end, index) for index, w in enumerate(buckets)))
    return select(key.label("key"), literal(root_path, String).label("root_path"), entries.c.tracking_id).subquery(
        "cohort"
    )


async def tally(session: AsyncSession, cohort: Subquery, now: datetime) -> dict[Any, Tally]:
    """Every figure for every key of `cohort`; `now` judges the running clocks."""
    c = cohort.c
    member = aliased(Node)
    tallies: dict[Any, Tally] = defaultdict(Tally)

    def held_by_subtree(code: ColumnLike) -> ColumnElement[bool]:
        return and_(member.code == code, under(member.path, c.root_path))

    for key, received in await session.execute(select(c.key, func.count()).group_by(c.key)):
        tallies[key].received = int(received)

    followed_up = (
        select(c.key, func.count(distinct(c.tracking_id)))
        .join(Assignment, Assignment.tracking_id == c.tracking_id)
        .join(member, held_by_subtree(Assignment.agency_code))
        .where(Assignment.first_followup_at.is_not(None))
        .group_by(c.key)
    )
    for key, count in await session.execute(followed_up):
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
    clocks = (
        select(
            c.key,
            func.count(distinct(case((late, c.tracking_id)))),
            func.sum(case((met, 1), else_=0)),
            func.sum(case((breached, 1), else_=0)),
        )
        .join(SlaClock, SlaClock.tracking_id == c.tracking_id)
        .join(member, held_by_subtree(SlaClock.agency_code))
        .where(SlaClock.kind.in_(NODE_CLOCKS))
        .group_by(c.key)
    )
    for key, overdue, met_count, breached_count in await session.execute(clocks):
        t = tallies[key]
        t.overdue, t.sla_met, t.sla_breached = int(overdue), int(met_count or 0), int(breached_count or 0)

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
        answers = [as_utc(at) for at in (acknowledged_at, first_followup_at) if at is not None]
        if answers:
            t.response_hours.append(max((min(answers) - as_utc(dispositioned_at)).total_seconds(), 0.0) / 3600)
    return tallies
