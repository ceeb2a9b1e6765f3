"""Rule queries. Candidate lookup is one indexed IN-list query; keywords are checked in Python, in winning order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, select
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.models import ANY, Node, RoutingRule
from routing_svc.rules.matcher import Candidate, Complaint, keyword_hit, region_prefixes, searchable

_PAGE = 500


def candidate(rule: RoutingRule) -> Candidate:
    return Candidate(
        id=rule.id,
        agency_code=rule.agency_code,
        classification=rule.classification,
        category=rule.category,
        region_code=rule.region_code,
        keywords=tuple(rule.keywords),
        priority=rule.priority,
        created_at=rule.created_at,
    )


async def best_rule(session: AsyncSession, complaint: Complaint) -> RoutingRule | None:
    """The winning rule whose target node is active, or None (see rules/matcher.py for the order).

    Matchers left out are stored as '', so the structural filter is `category IN ('', <the category and its
    ancestors>) AND classification IN ('', :cls) AND region_code IN ('', <the complaint region's prefixes>)`: a lookup
    on the composite index (category, classification, region_code). The candidates come back in winning order; the
    first whose keywords (if any) occur in the text wins.
    """
    lineage = complaint.categories
    categories = [ANY, *lineage]
    regions = [ANY, *region_prefixes(complaint.region_code)]
    order: list[ColumnElement[Any]] = [RoutingRule.priority.desc(), RoutingRule.specificity.desc()]
    if lineage:  # the nearer category first; a rule on none ranks with the complaint's own
        order.append(case({code: n for n, code in enumerate(lineage)}, value=RoutingRule.category, else_=0))
    stmt = (
        select(RoutingRule)
        .join(Node, Node.code == RoutingRule.agency_code)
        .where(
            RoutingRule.category.in_(categories),
            RoutingRule.classification.in_([ANY, complaint.classification]),
            RoutingRule.region_code.in_(regions),
            Node.is_active.is_(True),
        )
        .order_by(*order, RoutingRule.created_at.asc(), RoutingRule.id.asc())
    )
    haystack: str | None = None
    offset = 0
    while True:
        page = list((await session.execute(stmt.limit(_PAGE).offset(offset))).scalars())
        for rule in page:
            if not rule.keywords:
                return rule
            if haystack is None:
                haystack = searchable(complaint.title, complaint.content)
            if keyword_hit(rule.keywords, haystack):
                return rule
        if len(page) < _PAGE:
            return None
        offset += _PAGE
