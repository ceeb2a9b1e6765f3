"""SLA policy queries, and the choice of the policy that applies to a case."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.models import ANY, Case, SlaClock, SlaPolicy
from routing_svc.policies.defaults import default_working_days
from shared.db.results import rows_affected
from shared.domain import Classification, ClockKind
from shared.http.paging import Page


@dataclass(frozen=True)
class Budget:
    working_days: int
    policy_id: int | None
    """None: the built-in default applies."""


async def effective_budget(
    session: AsyncSession,
    kind: ClockKind,
    classification: Classification,
    category: str | None,
    node_path: Sequence[str],
    berkadar_pengawasan: bool,
) -> Budget:
    """The policy that fits best, else the default.

    Fitting: each matcher left out fits anything; `agency_code` fits the node and its subtree; a policy is for either
    the cases flagged berkadar pengawasan or the others. Best: the nearest node (deepest in the path) first, then a
    policy naming the category, then one naming the classification; the oldest policy breaks a tie.
    """
    stmt = select(SlaPolicy).where(
        SlaPolicy.kind == kind.value,
        SlaPolicy.classification.in_([ANY, classification.value]),
        SlaPolicy.category.in_([ANY, category] if category else [ANY]),
        SlaPolicy.agency_code.in_([ANY, *node_path]),
        SlaPolicy.berkadar_pengawasan.is_(berkadar_pengawasan),
    )
    depth = {code: i + 1 for i, code in enumerate(node_path)}
    best: SlaPolicy | None = None
    best_key: tuple[int, int, int, int] | None = None
    for policy in (await session.execute(stmt)).scalars():
        key = (depth.get(policy.agency_code, 0), policy.category != ANY, policy.classification != ANY, -policy.id)
        if best_key is None or key > best_key:
            best, best_key = policy, key
    if best is not None:
        return Budget(best.working_days, best.id)
    return Budget(default_working_days(kind, classification, berkadar_pengawasan), None)


async def get_policy(session: AsyncSession, policy_id: int) -> SlaPolicy | None:
    return await session.get(SlaPolicy, policy_id)


async def find_same(session: AsyncSession, policy: SlaPolicy) -> SlaPolicy | None:
    stmt = select(SlaPolicy).where(
        SlaPolicy.kind == policy.kind,
        SlaPolicy.classification == policy.classification,
        SlaPolicy.category == policy.category,
        SlaPolicy.agency_code == policy.agency_code,
        SlaPolicy.berkadar_pengawasan.is_(policy.berkadar_pengawasan),
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_policies(session: AsyncSession, kind: ClockKind | None, page: Page) -> list[SlaPolicy]:
    stmt = select(SlaPolicy)
    if kind is not None:
        stmt = stmt.where(SlaPolicy.kind == kind.value)
    stmt = stmt.order_by(SlaPolicy.kind, SlaPolicy.id).limit(page.limit + 1).offset(page.offset)
    return list((await session.execute(stmt)).scalars())


async def mark_for_recompute(session: AsyncSession, kind: str, due: object) -> int:
    """Make every open clock of `kind` due now, flagged to be recomputed by the sweep; returns how many.

    Their cases are locked first, in tracking id order, as everything else that changes clocks does (the sweep,
    the consumers, the decisions): changing the clocks of many cases without, in whatever order the table gives,
    deadlocks with the sweep on PostgreSQL.
    """
    open_clocks = (SlaClock.stopped_at.is_(None), SlaClock.kind == kind)
    cases = select(Case.tracking_id).where(Case.tracking_id.in_(select(SlaClock.tracking_id).where(*open_clocks)))
    await session.execute(cases.order_by(Case.tracking_id).with_for_update())
    result = await session.execute(
        update(SlaClock)
        .where(*open_clocks)
        .values(recompute=True, next_fire_at=due)
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result)
