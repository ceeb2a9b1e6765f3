"""What moves a case: submissions, agency and reporter events, and coordinators' decisions. Never commits.

Consumers never raise on an illegal or stale event: they log it and change nothing. An agency event counts only
when it comes from the node holding the case or one of that node's ancestors.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.cases import views, wbs
from routing_svc.cases.context import CaseContext
from routing_svc.cases.flags import submission_flags
from routing_svc.cases.lifecycle import (
    Action,
    IllegalTransition,
    Move,
    add_note,
    apply_transition,
    display_name,
    is_legal,
)
from routing_svc.cases.repository import get_case, history
from routing_svc.cases.schemas import CaseView, Decision, DecisionAction
from routing_svc.categories.repository import lineage
from routing_svc.directory.repository import get_active_node
from routing_svc.models import ATTACHMENTS, Case, CaseHistory, Node
from routing_svc.rules.matcher import Complaint
from routing_svc.rules.repository import best_rule
from shared.auth.keys import Principal
from shared.domain import Classification, ClockKind, RejectReason, RouteKind, Status
from shared.errors import ApiError, not_found
from shared.events.contracts import (
    ComplaintSubmitted,
)
from shared.files import records
from shared.identity import NameSeal
from shared.logging import get_logger

log = get_logger(__name__)

ROUTING_ACTOR = "routing"
REPORTER_ACTOR = "reporter"


# Creation and routing ---------------------------------------------------------------------------


async def create_case(session: AsyncSession, data: ComplaintSubmitted, now: datetime, names: NameSeal) -> Case | None:
    """Create the case from complaint.submitted; None (and nothing written) if it exists already."""
    if await get_case(session, data.tracking_id) is not None:
        log.info("duplicate_submission_ignored")
        return None
    snap = data.case
    flags = await submission_flags(session, snap.category, snap.region_code)
    case = Case(
        tracking_id=data.tracking_id,
        status=Status.submitted.value,
        classification=snap.classification.value,
        category=snap.category,
        region_code=snap.region_code,
        title=snap.title,
        content=snap.content,
        channel=snap.channel.value,
        incident_date=snap.incident_date,
        is_anonymous=snap.is_anonymous,
        is_confidential=snap.is_confidential,
        reporter_name_sealed=None if snap.is_anonymous else names.from_event(snap.reporter_name_sealed),
        chosen_agency_code=data.agency_code,
        agency_code=None,
        case_version=0,
        forward_count=0,
        flags=flags,
        flagged=bool(flags),
        submitted_at=snap.submitted_at,
        updated_at=now,
    )
    session.add(case)
    session.add(
        CaseHistory(
            tracking_id=case.tracking_id,
            at=now,
            action=Action.submit.value,
            from_status=None,
            to_status=Status.submitted.value,
            actor=f"intake:{snap.channel.value}",
            agency_code=None,
            case_version=0,
        )
    )
    await session.flush()
    return case


async def route(session: AsyncSession, ctx: CaseContext, case: Case, *, causation_id: uuid.UUID | None) -> None:
    """Route a submitted case: the reporter's (active) choice, else the best rule, else it waits in triage.

    A whistleblowing report goes instead to the integrity node of the node so chosen, which it accuses (cases/wbs.py).
    """
    now = ctx.clock.now()
    found = await _choice_or_rule(session, case)
    if found.target is not None and wbs.is_wbs(case):
        found = await _to_integrity_node(session, case, found.target, found)
    if found.target is None:
        await add_note(session, case, actor=ROUTING_ACTOR, now=now, reason=found.unrouted, reason_code="triage")
        log.info("case_in_triage")
        return
    await apply_transition(
        session,
        ctx,
        case,
        Move(
            Action.dispose,
            ROUTING_ACTOR,
            agency_code=found.target.code,
            route_kind=found.route_kind,
            rule_id=found.rule_id,
            reason=found.why,
        ),
        now=now,
        causation_id=causation_id,
    )


@dataclass(frozen=True)
class _Route:
    """Where routing sends a case and why; or, with no target, why it waits in triage."""

    target: Node | None
    route_kind: RouteKind
    rule_id: str | None
    why: str
    unrouted: str


async def _choice_or_rule(session: AsyncSession, case: Case) -> _Route:
    """The reporter's choice if it is an active node, else the best rule's node."""
    chosen = case.chosen_agency_code
    why = ""
    target: Node | None = None
    route_kind, rule_id = RouteKind.reporter_choice, None
    if chosen:
        target = await get_active_node(session, chosen)
        if target is None:
            why = f"the reporter's choice {chosen!r} is not an active node; "
            log.info("chosen_agency_unusable", chosen=chosen)
        else:
            why = "reporter's choice"
    if target is None:
        ancestors = (await lineage(session, case.category))[1:] if case.category else []
        rule = await best_rule(
            session,
            Complaint(
                classification=case.classification,
                category=case.category,
                region_code=case.region_code,
                title=case.title,
                content=case.content,
                category_ancestors=tuple(ancestors),
            ),
        )
        if rule is not None:
            target = await get_active_node(session, rule.agency_code)
            route_kind, rule_id, why = RouteKind.rule, str(rule.id), f"{why}rule {rule.id}"
    return _Route(target, route_kind, rule_id, why, unrouted=f"{why}no routing rule matched; waiting in triage")


async def _to_integrity_node(session: AsyncSession, case: Case, accused: Node, found: _Route) -> _Route:
    """A whistleblowing report: record the node it accuses, and send it to that node's integrity node instead."""
    case.accused_agency_code = accused.code
    integrity = await wbs.integrity_node_for(session, accused)
    if integrity is None:
        why_not = f"whistleblowing report about {accused.code}, which has no integrity node; waiting in triage"
        return replace(found, target=None, unrouted=why_not)
    why = f"whistleblowing report about {accused.code} ({found.why}): to its integrity node {integrity.code}"
    return replace(found, target=integrity, why=why)


# Coordinators' decisions ------------------------------------------------------------------------


async def _locked_case_or_404(session: AsyncSession, tracking_id: str) -> Case:
    case = await get_case(session, tracking_id, for_update=True)
    if case is None:
        raise not_found("case")
    return case


def _illegal(exc: IllegalTransition) -> ApiError:
    return ApiError(409, "illegal_transition", str(exc))


async def decide(
    session: AsyncSession, ctx: CaseContext, tracking_id: str, body: Decision, principal: Principal
) -> Case:
    """Apply a coordinator's decision: dispose (or override), postpone, or reject. 409 when the status forbids it."""
    case = await _locked_case_or_404(session, tracking_id)
    actor = principal.actor
    now = ctx.clock.now()
    try:
        if body.action is DecisionAction.dispose:
            await _dispose(session, ctx, case, body, actor=actor, now=now)
        elif body.action is DecisionAction.postpone:
            if not body.reason:
                raise ApiError(422, "reason_required", "a postponement needs a reason (what the reporter should add)")
            await apply_transition(session, ctx, case, Move(Action.postpone, actor, reason=body.reason), now=now)
        else:
            await apply_transition(
                session,
                ctx,
                case,
                Move(
                    Action.reject,
                    actor,
                    reason=body.reason,
                    reason_code=(body.reason_code or RejectReason.not_relevant).value,
                ),
                now=now,
            )
    except IllegalTransition as exc:
        raise _illegal(exc) from exc
    return case


async def _dispose(
    session: AsyncSession, ctx: CaseContext, case: Case, body: Decision, *, actor: str, now: datetime
) -> None:
    """A coordinator's disposal (an override when a node holds the case), setting the flag the decision gives."""
    node = await _decision_target(session, case, body.agency_code)
    if body.berkadar_pengawasan is not None:
        _check_flag(case, body.berkadar_pengawasan)
    action = Action.dispose if case.status == Status.submitted else Action.override
    if action is Action.override and is_legal(action, Status(case.status)) and node.code == case.agency_code:
        raise ApiError(409, "illegal_transition", f"the case is already with {node.code}")
    flag_changed = (
        body.berkadar_pengawasan is not None
        and is_legal(action, Status(case.status))
        and await _note_flag(session, case, body.berkadar_pengawasan, actor, now)
    )
    await apply_transition(
        session,
        ctx,
        case,
        Move(
            action,
            actor,
            agency_code=node.code,
            route_kind=RouteKind.coordinator,
            reason=body.reason or "coordinator decision",
        ),
        now=now,
    )
    if flag_changed:
        await _recompute_resolution(session, ctx, case, now)


async def _decision_target(session: AsyncSession, case: Case, agency_code: str | None) -> Node:
    """The node a coordinator disposes to: active, and not the one a whistleblowing report accuses (else 422)."""
    node = await get_active_node(session, agency_code)
    if node is None:
        raise ApiError(422, "unknown_agency", f"agency_code {agency_code!r} is not an active node")
    if not await wbs.may_hold(session, case, node):
        raise ApiError(
            422,
            "wbs_accused_node",
            f"this whistleblowing report accuses {case.accused_agency_code}: it cannot go to {node.code}",
        )
    return node


def _check_flag(case: Case, flagged: bool) -> None:
    if flagged and case.classification != Classification.pengaduan:
        raise ApiError(
            422, "not_pengaduan", f"only a pengaduan can be berkadar pengawasan; this is {case.classification}"
        )


async def _note_flag(session: AsyncSession, case: Case, flagged: bool, actor: str, now: datetime) -> bool:
    """Set the flag and say so in the history (and the audit trail); False if it was already so."""
    if case.berkadar_pengawasan == flagged:
        return False
    case.berkadar_pengawasan = flagged
    await add_note(
        session,
        case,
        actor=actor,
        now=now,
        reason="flagged berkadar pengawasan (needs examination)" if flagged else "berkadar pengawasan flag removed",
        reason_code="berkadar_pengawasan",
    )
    return True


async def set_berkadar_pengawasan(
    session: AsyncSession, ctx: CaseContext, tracking_id: str, flagged: bool, principal: Principal
) -> Case:
    """Flag or unflag a pengaduan; its open resolution clock is recomputed at once."""
    case = await _locked_case_or_404(session, tracking_id)
    _check_flag(case, flagged)
    now = ctx.clock.now()
    if await _note_flag(session, case, flagged, principal.actor, now):
        await _recompute_resolution(session, ctx, case, now)
    return case


async def _recompute_resolution(session: AsyncSession, ctx: CaseContext, case: Case, now: datetime) -> None:
    for clock in await ctx.sla.clocks(session, case.tracking_id, open_only=True):
        if clock.kind == ClockKind.resolution:
            await ctx.sla.recompute(session, case, clock)
    await ctx.outbox.add(session, await ctx.sla.clocks_changed(session, case, now))


async def view(session: AsyncSession, ctx: CaseContext, case: Case) -> CaseView:
    """The hub's full view of a case: history, clocks and what the reporter is told to expect."""
    clocks = await ctx.sla.clocks(session, case.tracking_id)
    shown = views.full_view(
        case,
        await history(session, case.tracking_id),
        clocks,
        ctx.clock.now(),
        await ctx.sla.expected_answer_by(session, case, clocks),
        display_name(case, ctx.names),
    )
    shown.attachments = [records.view_of(r) for r in await records.of_case(session, ATTACHMENTS, case.tracking_id)]
    return shown
