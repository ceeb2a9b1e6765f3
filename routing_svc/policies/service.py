"""Creating, changing and removing SLA policies. Every change makes the open clocks of its kind be recomputed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.directory.repository import get_node
from routing_svc.models import ANY, KIT, SlaPolicy
from routing_svc.policies import repository
from routing_svc.policies.schemas import PolicyCreate, PolicyOut
from shared import audit
from shared.domain import Classification, ClockKind
from shared.errors import ApiError, not_found
from shared.logging import get_logger

log = get_logger(__name__)


def to_out(p: SlaPolicy) -> PolicyOut:
    return PolicyOut(
        id=p.id,
        kind=ClockKind(p.kind),
        working_days=p.working_days,
        classification=Classification(p.classification) if p.classification else None,
        category=p.category or None,
        agency_code=p.agency_code or None,
        berkadar_pengawasan=p.berkadar_pengawasan,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


async def create(session: AsyncSession, body: PolicyCreate, now: datetime, *, actor: str) -> SlaPolicy:
    if body.berkadar_pengawasan and (
        body.kind is not ClockKind.resolution or body.classification not in (None, Classification.pengaduan)
    ):
        raise ApiError(
            422, "invalid_policy", "berkadar_pengawasan policies are for the resolution clock of pengaduan only"
        )
    if body.agency_code and await get_node(session, body.agency_code) is None:
        raise ApiError(422, "unknown_agency", f"agency_code {body.agency_code!r} is not in the directory")
    policy = SlaPolicy(
        kind=body.kind.value,
        classification=body.classification.value if body.classification else ANY,
        category=body.category or ANY,
        agency_code=body.agency_code or ANY,
        berkadar_pengawasan=body.berkadar_pengawasan,
        working_days=body.working_days,
        created_at=now,
        updated_at=now,
    )
    existing = await repository.find_same(session, policy)
    if existing is not None:
        raise ApiError(
            409, "policy_exists", f"policy {existing.id} has the same matchers; change its working_days instead"
        )
    session.add(policy)
    await session.flush()
    await _audit(session, actor, "policy.create", policy, now)
    await _recompute(session, policy.kind, now)
    return policy


async def update(session: AsyncSession, policy_id: int, working_days: int, now: datetime, *, actor: str) -> SlaPolicy:
    policy = await repository.get_policy(session, policy_id)
    if policy is None:
        raise not_found("policy")
    previous = policy.working_days
    policy.working_days = working_days
    policy.updated_at = now
    await _audit(session, actor, "policy.update", policy, now, previous_working_days=previous)
    await _recompute(session, policy.kind, now)
    return policy


async def delete(session: AsyncSession, policy_id: int, now: datetime, *, actor: str) -> None:
    policy = await repository.get_policy(session, policy_id)
    if policy is None:
        raise not_found("policy")
    await session.delete(policy)
    await _audit(session, actor, "policy.delete", policy, now)
    await _recompute(session, policy.kind, now)


async def _recompute(session: AsyncSession, kind: str, now: datetime) -> None:
    marked = await repository.mark_for_recompute(session, kind, now)
    log.info("sla_policy_changed", kind=kind, clocks_to_recompute=marked)


async def _audit(session: AsyncSession, actor: str, action: str, p: SlaPolicy, now: datetime, **extra: object) -> None:
    await audit.record(
        session,
        KIT,
        audit.Entry(
            actor=actor,
            action=action,
            target_type=audit.Target.policy,
            target_id=str(p.id),
            at=now,
            details=to_out(p).model_dump(mode="json", exclude={"id", "created_at", "updated_at"}) | extra,
        ),
    )
