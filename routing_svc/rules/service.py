"""Rule writes and views."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.categories.repository import is_known
from routing_svc.directory.repository import get_node
from routing_svc.models import ANY, KIT, RoutingRule
from routing_svc.rules.matcher import specificity_x10
from routing_svc.rules.schemas import RuleCreate, RuleOut
from shared import audit
from shared.domain import Classification
from shared.errors import ApiError
from shared.http.paging import Page
from shared.logging import get_logger

log = get_logger(__name__)


def rule_out(rule: RoutingRule) -> RuleOut:
    return RuleOut(
        id=rule.id,
        agency_code=rule.agency_code,
        classification=Classification(rule.classification) if rule.classification else None,
        category=rule.category or None,
        region_code=rule.region_code or None,
        keywords=list(rule.keywords),
        priority=rule.priority,
        specificity=rule.specificity / 10,
        created_at=rule.created_at,
    )


async def create_rule(session: AsyncSession, body: RuleCreate, now: datetime, *, actor: str) -> RoutingRule:
    if await get_node(session, body.agency_code) is None:
        raise ApiError(422, "unknown_agency", f"node {body.agency_code!r} does not exist")
    if body.category and not await is_known(session, body.category):
        raise ApiError(422, "unknown_category", f"category {body.category!r} is not an active category of the tree")
    classification = body.classification.value if body.classification else ANY
    category = body.category.lower() if body.category else ANY
    region = body.region_code or ANY
    rule = RoutingRule(
        agency_code=body.agency_code,
        classification=classification,
        category=category,
        region_code=region,
        keywords=body.keywords,
        priority=body.priority,
        specificity=specificity_x10(
            keywords=body.keywords, category=category, classification=classification, region_code=region
        ),
        created_at=now,
    )
    session.add(rule)
    await session.flush()
    await _audit(session, actor, "rule.create", rule, now)
    log.info("rule_created", rule_id=rule.id, agency_code=rule.agency_code)
    return rule


async def list_rules(session: AsyncSession, agency_code: str | None, page: Page) -> list[RoutingRule]:
    stmt = select(RoutingRule).order_by(RoutingRule.id).limit(page.limit + 1).offset(page.offset)
    if agency_code is not None:
        stmt = stmt.where(RoutingRule.agency_code == agency_code)
    return list((await session.execute(stmt)).scalars())


async def delete_rule(session: AsyncSession, rule_id: int, now: datetime, *, actor: str) -> bool:
    rule = await session.get(RoutingRule, rule_id)
    if rule is None:
        return False
    await session.delete(rule)
    await _audit(session, actor, "rule.delete", rule, now)
    log.info("rule_deleted", rule_id=rule_id)
    return True


async def _audit(session: AsyncSession, actor: str, action: str, rule: RoutingRule, now: datetime) -> None:
    await audit.record(
        session,
        KIT,
        audit.Entry(
            actor=actor,
            action=action,
            target_type=audit.Target.rule,
            target_id=str(rule.id),
            at=now,
            details=rule_out(rule).model_dump(mode="json", exclude={"id", "created_at"}),
        ),
    )
