"""The case consumer's handlers (`routing-cases`): submissions, agency work and reporter actions move each case's
state machine.

Handlers never commit (the runner commits the batch) and never raise on an illegal or stale event: they log it and
change nothing. An agency event counts only when it comes from the node holding the case or one of that node's
ancestors. A case that is not known yet (an event overtook its submission) is retried later.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.cases import wbs
from routing_svc.cases.context import CaseContext
from routing_svc.cases.lifecycle import HELD, Action, IllegalTransition, Move, Transition, apply_transition, is_legal
from routing_svc.cases.repository import get_case, open_assignment
from routing_svc.cases.service import REPORTER_ACTOR, create_case, route
from routing_svc.directory.repository import get_active_node, get_node
from routing_svc.models import Assignment, Case
from shared.bus.consumer import RetryLater
from shared.bus.handlers import Handlers
from shared.domain import ClockKind, RouteKind, Status
from shared.events import Envelope
from shared.events.contracts import (
    AgencyAcknowledged,
    AgencyDelegated,
    AgencyForwardRequested,
    ComplaintSubmitted,
    FollowupPosted,
    ReporterRated,
    ReporterReplied,
    ReporterWithdrew,
)
from shared.logging import get_logger

log = get_logger(__name__)

handlers = Handlers[CaseContext]()


@handlers.on(ComplaintSubmitted)
async def on_submitted(session: AsyncSession, envelope: Envelope, data: ComplaintSubmitted, ctx: CaseContext) -> None:
    causation_id = envelope.id
    now = ctx.clock.now()
    case = await create_case(session, data, now, ctx.names)
    if case is None:
        return
    await session.flush()
    await ctx.sla.start(session, case, ClockKind.verification, now, None)
    await route(session, ctx, case, causation_id=causation_id)
    if case.status == Status.submitted:  # no transition told the others about the verification clock
        await ctx.outbox.add(session, await ctx.sla.clocks_changed(session, case, now), causation_id=causation_id)


# Agency events ----------------------------------------------------------------------------------


async def _case(session: AsyncSession, tracking_id: str) -> Case:
    case = await get_case(session, tracking_id, for_update=True)
    if case is None:
        raise RetryLater(f"case {tracking_id} is not known yet")
    return case


async def _held_by(session: AsyncSession, case: Case, agency_code: str, event: str) -> bool:
    """True if `agency_code` holds the case or is an ancestor of the node that does (for a WBS case, only the holder
    itself); else log and say False."""
    if case.agency_code is not None:
        if agency_code == case.agency_code:
            return True
        holder = None if wbs.is_wbs(case) else await get_node(session, case.agency_code)
        if holder is not None and agency_code in holder.path_codes:
            return True
    log.info("agency_event_ignored", event_type=event, agency_code=agency_code, holder=case.agency_code)
    return False


async def _try(
    session: AsyncSession, ctx: CaseContext, case: Case, move: Move, causation_id: uuid.UUID
) -> Transition | None:
    """Apply a transition for a consumer: an illegal (stale, repeated, reordered) one is logged and ignored."""
    try:
        return await apply_transition(session, ctx, case, move, now=ctx.clock.now(), causation_id=causation_id)
    except IllegalTransition as exc:
        log.info("transition_ignored", action=move.action.value, status=case.status, error=str(exc))
        return None


async def _first_response(session: AsyncSession, ctx: CaseContext, assignment: Assignment, at: datetime) -> None:
    """Record how long the node took to respond first, in working days of its own timezone."""
    if assignment.first_response_working_days is not None:
        return
    node = await get_node(session, assignment.agency_code)
    tz = node.timezone if node else ctx.sla.hub_timezone
    assignment.first_response_working_days = ctx.sla.rules.calendar.working_time_between(
        assignment.dispositioned_at, at, tz
    )


@handlers.on(AgencyAcknowledged)
async def on_acknowledged(
    session: AsyncSession, envelope: Envelope, data: AgencyAcknowledged, ctx: CaseContext
) -> None:
    causation_id = envelope.id
    case = await _case(session, data.tracking_id)
    if not await _held_by(session, case, data.agency_code, "agency.acknowledged"):
        return
    assignment = await open_assignment(session, case.tracking_id)
    if assignment is not None and assignment.acknowledged_at is None:
        assignment.acknowledged_at = data.acknowledged_at
        await _first_response(session, ctx, assignment, data.acknowledged_at)
    if case.status == Status.dispositioned:
        await _try(session, ctx, case, Move(Action.acknowledge, data.actor), causation_id)
    else:
        log.info("acknowledgement_noted", status=case.status)


@handlers.on(FollowupPosted)
async def on_followup(session: AsyncSession, envelope: Envelope, data: FollowupPosted, ctx: CaseContext) -> None:
    causation_id = envelope.id
    case = await _case(session, data.tracking_id)
    if not await _held_by(session, case, data.agency_code, "followup.posted"):
        return
    assignment = await open_assignment(session, case.tracking_id)
    if assignment is not None and assignment.first_followup_at is None:
        assignment.first_followup_at = data.posted_at
        await _first_response(session, ctx, assignment, data.posted_at)
    if data.is_final:
        await _try(session, ctx, case, Move(Action.answer, data.actor, reason="final follow-up"), causation_id)
    elif case.status == Status.dispositioned:
        await _try(session, ctx, case, Move(Action.progress, data.actor, reason="follow-up"), causation_id)
    else:
        log.info("followup_noted", status=case.status)


@handlers.on(AgencyForwardRequested)
async def on_forward_requested(
    session: AsyncSession, envelope: Envelope, data: AgencyForwardRequested, ctx: CaseContext
) -> None:
    """Bukan wewenang: to the suggested node if usable and under the bounce limit, else back to triage."""
    causation_id = envelope.id
    case = await _case(session, data.tracking_id)
    if not await _held_by(session, case, data.agency_code, "agency.forward_requested"):
        return
    if Status(case.status) not in HELD:
        log.info("forward_ignored", status=case.status)
        return
    case.forward_count += 1
    target = await get_active_node(session, data.suggested_agency_code)
    if target is not None and not await wbs.may_hold(session, case, target):
        log.info("wbs_forward_to_accused_refused", suggested=target.code)
        target = None
    over_limit = case.forward_count > ctx.settings.max_forwards
    if target is not None and target.code != case.agency_code and not over_limit:
        await _try(
            session,
            ctx,
            case,
            Move(Action.forward, data.actor, agency_code=target.code, route_kind=RouteKind.forward, reason=data.reason),
            causation_id,
        )
        return
    if over_limit:
        why, code = f"forwarded {case.forward_count} times (limit {ctx.settings.max_forwards})", "forward_limit"
    elif data.suggested_agency_code:
        why, code = f"suggested node {data.suggested_agency_code!r} is not usable", "forward_no_target"
    else:
        why, code = "no node suggested", "forward_no_target"
    await _try(
        session,
        ctx,
        case,
        Move(Action.triage, data.actor, reason=f"{data.reason} ({why}; to triage)", reason_code=code),
        causation_id,
    )


@handlers.on(AgencyDelegated)
async def on_delegated(session: AsyncSession, envelope: Envelope, data: AgencyDelegated, ctx: CaseContext) -> None:
    """Delegation to a strict descendant of the holding node (Kanwil -> UPT)."""
    causation_id = envelope.id
    case = await _case(session, data.tracking_id)
    if not await _held_by(session, case, data.from_agency_code, "agency.delegated"):
        return
    holder = await get_node(session, case.agency_code) if case.agency_code else None
    target = await get_active_node(session, data.agency_code)
    if (
        holder is None
        or target is None
        or target.code == holder.code
        or not target.path.startswith(holder.path)
        or not await wbs.may_hold(session, case, target)
    ):
        log.info("delegation_ignored", target=data.agency_code, holder=case.agency_code)
        return
    await _try(
        session,
        ctx,
        case,
        Move(
            Action.delegate,
            data.actor,
            agency_code=target.code,
            route_kind=RouteKind.delegation,
            reason=data.reason or f"delegated by {data.from_agency_code}",
        ),
        causation_id,
    )


# Reporter events --------------------------------------------------------------------------------


@handlers.on(ReporterReplied)
async def on_replied(session: AsyncSession, envelope: Envelope, data: ReporterReplied, ctx: CaseContext) -> None:
    causation_id = envelope.id
    case = await _case(session, data.tracking_id)
    if case.status == Status.postponed:
        done = await _try(
            session, ctx, case, Move(Action.resubmit, REPORTER_ACTOR, reason="reporter added information"), causation_id
        )
        if done is not None:
            await route(session, ctx, case, causation_id=causation_id)
    elif case.status == Status.answered and data.accepts_answer:
        await _try(
            session,
            ctx,
            case,
            Move(Action.complete, REPORTER_ACTOR, reason="reporter accepted the answer"),
            causation_id,
        )
    elif case.status == Status.answered and data.disputes_answer:
        await _try(
            session,
            ctx,
            case,
            Move(Action.dispute, REPORTER_ACTOR, reason="reporter disputes the answer"),
            causation_id,
        )
    else:
        log.info("reply_noted", status=case.status, disputes_answer=data.disputes_answer)


@handlers.on(ReporterRated)
async def on_rated(session: AsyncSession, envelope: Envelope, data: ReporterRated, ctx: CaseContext) -> None:
    causation_id = envelope.id
    case = await _case(session, data.tracking_id)
    if not is_legal(Action.complete, Status(case.status)):
        log.info("rating_ignored", status=case.status)
        return
    case.rating = data.score
    case.rated_at = data.rated_at
    await _try(session, ctx, case, Move(Action.complete, REPORTER_ACTOR, reason=f"rated {data.score}/5"), causation_id)


@handlers.on(ReporterWithdrew)
async def on_withdrew(session: AsyncSession, envelope: Envelope, data: ReporterWithdrew, ctx: CaseContext) -> None:
    causation_id = envelope.id
    case = await _case(session, data.tracking_id)
    await _try(
        session,
        ctx,
        case,
        Move(Action.withdraw, REPORTER_ACTOR, reason=data.reason or "withdrawn by the reporter"),
        causation_id,
    )
