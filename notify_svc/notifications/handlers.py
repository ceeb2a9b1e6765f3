"""What each event becomes: the notifications it makes, for whom, and what their templates are given. Never commits.

To the reporter (when they left an email or a phone): the confirmation of the submission (contact.registered, in
notify_svc.contacts.handlers: the only message that carries the receipt), every status change (postponed is the
request for more information; answered, completed), every follow-up, and the reminder before the reporter-response
clock runs out (its 80% sla.warning). To officers and coordinators: escalation notices (complaint.escalated); the
digest is made by notify_svc.digest.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.cases import repository as cases
from notify_svc.context import NotifyContext
from notify_svc.models import RecipientKind
from notify_svc.notifications.service import Addressee, Notice, enqueue
from notify_svc.notifications.triggers import ESCALATION, FOLLOWUP_POSTED, REMINDER, STATUS_CHANGED, for_reporter
from notify_svc.recipients import repository as recipients
from shared.bus.handlers import Handlers
from shared.domain import ESCALATION_LADDER, ClockKind, EscalationTarget, Status
from shared.events import Envelope
from shared.events.contracts import ComplaintEscalated, ComplaintStatusChanged, FollowupPosted, SlaWarning
from shared.logging import get_logger

log = get_logger(__name__)

handlers = Handlers[NotifyContext]()


@handlers.on(ComplaintStatusChanged)
async def on_status_changed(
    session: AsyncSession, envelope: Envelope, data: ComplaintStatusChanged, ctx: NotifyContext
) -> None:
    now = ctx.clock.now()
    context = {
        "tracking_id": data.tracking_id,
        "status": data.status.value,
        "previous_status": data.previous_status.value if data.previous_status else None,
        "reason_code": data.reason_code,
        "reason": data.reason,
        "case_version": data.case_version,
        "changed_at": data.changed_at.isoformat(),
    }
    notice = Notice.of(envelope, template=STATUS_CHANGED, tracking_id=data.tracking_id, context=context)
    await for_reporter(session, notice, now)


@handlers.on(FollowupPosted)
async def on_followup_posted(
    session: AsyncSession, envelope: Envelope, data: FollowupPosted, ctx: NotifyContext
) -> None:
    now = ctx.clock.now()
    context = {
        "tracking_id": data.tracking_id,
        "followup_id": data.followup_id,
        "agency_code": data.agency_code,
        "agency_name": data.agency_name or data.agency_code,
        "content": data.content,
        "is_final": data.is_final,
        "posted_at": data.posted_at.isoformat(),
    }
    notice = Notice.of(envelope, template=FOLLOWUP_POSTED, tracking_id=data.tracking_id, context=context)
    await for_reporter(session, notice, now)


@handlers.on(SlaWarning)
async def on_sla_warning(session: AsyncSession, envelope: Envelope, data: SlaWarning, ctx: NotifyContext) -> None:
    """The reporter-response clock at 80%: remind the reporter before the case completes (or, postponed, lapses)."""
    now = ctx.clock.now()
    if data.clock is not ClockKind.reporter_response:
        return
    status = await cases.status_of(session, data.tracking_id)
    if status not in (Status.answered.value, Status.postponed.value):
        # Status not known here yet: routing starts the node's clock when answered, the hub's when postponed.
        status = Status.answered.value if data.agency_code else Status.postponed.value
    context = {"tracking_id": data.tracking_id, "awaiting": status, "due_at": data.due_at.isoformat()}
    notice = Notice.of(envelope, template=REMINDER, tracking_id=data.tracking_id, context=context)
    await for_reporter(session, notice, now)


@handlers.on(ComplaintEscalated)
async def on_escalated(session: AsyncSession, envelope: Envelope, data: ComplaintEscalated, ctx: NotifyContext) -> None:
    """The liaison officers of the node told (`target_agency_code`) and the coordinators registered for the target's
    rung: the level's, but level 3's (the hub's) for a rung routing sent to the coordinators instead of a node that
    may not learn of the case (a whistleblowing report's accused, the nodes above it or below it)."""
    now = ctx.clock.now()
    coordinator_level = ESCALATION_LADDER.index(data.target) + 1
    liaisons = (
        await recipients.in_scope(session, recipients.node_scope(data.target_agency_code))
        if data.target_agency_code
        else []
    )
    told = {r.email for r in liaisons}
    coordinators = [
        r for r in await recipients.in_scope(session, recipients.level_scope(coordinator_level)) if r.email not in told
    ]
    context = {
        "tracking_id": data.tracking_id,
        "clock": data.clock.value,
        "level": data.level,
        "coordinator_level": coordinator_level,
        "target": data.target.value,
        "agency_code": data.agency_code,
        "target_agency_code": data.target_agency_code,
        "due_at": data.due_at.isoformat(),
        "escalated_at": data.escalated_at.isoformat(),
    }
    notice = Notice.of(envelope, template=ESCALATION, tracking_id=data.tracking_id, context=context)
    for kind, group in ((RecipientKind.liaison, liaisons), (RecipientKind.coordinator, coordinators)):
        for r in group:
            await enqueue(session, notice, Addressee(kind, r.id), now=now)
    if not liaisons and not coordinators:
        kind = (
            RecipientKind.liaison
            if data.target in (EscalationTarget.liaison, EscalationTarget.parent)
            else RecipientKind.coordinator
        )
        await enqueue(session, notice, Addressee(kind), now=now, skip_reason="no_recipients")
        log.warning("escalation_unaddressed", level=data.level, target_agency_code=data.target_agency_code)
