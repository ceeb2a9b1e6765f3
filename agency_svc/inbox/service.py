"""The inbox and the work on a case. Never commits: the endpoint does, with the outbox rows in the same transaction.

Who is named in the events: `agency_code` is always the case's current holder (the node the hub holds
responsible), `actor` is the key's node (`agency:<code>`), which may be the holder or one of its ancestors.
Follow-ups also store `author_code` (the key's node). The hub owns the status: these calls only set local flags
(acknowledged_at, forward_requested_at, delegation_requested_at, final_posted_at) and emit the event. Each one that
changes something is also an audit entry, in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from agency_svc.attachments.case_files import name_files
from agency_svc.attachments.case_files import visible as visible_attachments
from agency_svc.clocks.service import NO_CLOCKS, ShownClocks, shown_clocks
from agency_svc.context import AgencyContext
from agency_svc.directory.repository import get_node
from agency_svc.directory.service import Scope, scope_of
from agency_svc.inbox import repository as repo
from agency_svc.inbox.schemas import (
    CaseDetail,
    CaseSummary,
    DelegateIn,
    FollowUpIn,
    FollowUpView,
    ForwardIn,
    HistoryEntry,
    Inbox,
    InboxQuery,
    MessagePage,
    MessageView,
)
from agency_svc.models import KIT, Case, CaseMessage, FollowUp, Node
from shared import audit
from shared.auth.keys import Principal
from shared.domain import ANONYMOUS_NAME, STATUS_LABELS, Classification, Status
from shared.errors import ApiError, not_found
from shared.events.contracts import AgencyAcknowledged, AgencyDelegated, AgencyForwardRequested, FollowupPosted
from shared.http.paging import THREAD_TAIL, Page
from shared.identity import NameSeal
from shared.logging import get_logger

log = get_logger(__name__)

WORKABLE = frozenset({Status.dispositioned, Status.in_progress})
"""The statuses in which a node may post follow-ups, forward or delegate."""


@dataclass
class Held:
    """A case visible to the calling key, with its holder's node (None if the directory has not told us yet)."""

    case: Case
    scope: Scope
    holder: Node | None


def _label(status: str) -> str:
    return STATUS_LABELS[Status(status)]


def summary(case: Case, clocks: ShownClocks) -> CaseSummary:
    return CaseSummary(
        tracking_id=case.tracking_id,
        title=case.title,
        classification=case.classification,
        category=case.category,
        status=case.status,
        status_label=_label(case.status),
        agency_code=case.agency_code,
        dispositioned_at=case.dispositioned_at,
        acknowledged_at=case.acknowledged_at,
        forward_requested_at=case.forward_requested_at,
        escalation_level=clocks.escalation_level,
        next_due_at=clocks.next_due_at,
    )


async def inbox(
    session: AsyncSession,
    principal: Principal,
    query: InboxQuery,
    page: Page,
    *,
    now: datetime,
) -> Inbox:
    scope = await scope_of(session, principal)
    if scope is None:
        return Inbox(items=[], next_offset=None)
    rows = await repo.inbox_page(session, scope, query, page, now=now)
    shown = rows[: page.limit]
    clocks = await shown_clocks(session, scope, [c.tracking_id for c in shown])
    items = [summary(c, clocks.get(c.tracking_id, NO_CLOCKS)) for c in shown]
    return Inbox(items=items, next_offset=page.next_offset(len(rows)))


async def held_case(session: AsyncSession, principal: Principal, tracking_id: str, *, lock: bool = False) -> Held:
    """The case if the key's subtree holds it; otherwise 404, whether or not it exists."""
    scope = await scope_of(session, principal)
    case = await repo.get_case(session, tracking_id, lock=lock) if scope is not None else None
    if scope is None or case is None or case.released_at is not None:
        raise not_found("case")
    holder = await get_node(session, case.agency_code)
    if not scope.covers(case.agency_code, holder.path if holder else None):
        raise not_found("case")
    if case.classification == Classification.wbs and scope.code != case.agency_code:
        raise not_found("case")  # a whistleblowing report is for its holder alone, not for the holder's ancestors
    return Held(case=case, scope=scope, holder=holder)


def _follow_up_view(f: FollowUp, attachment_ids: list[str]) -> FollowUpView:
    return FollowUpView(
        followup_id=f.followup_id,
        tracking_id=f.tracking_id,
        agency_code=f.agency_code,
        agency_name=f.agency_name,
        author_code=f.author_code,
        content=f.content,
        is_final=f.is_final,
        posted_at=f.posted_at,
        attachment_ids=attachment_ids,
    )


async def detail(session: AsyncSession, case: Case, scope: Scope, names: NameSeal) -> CaseDetail:
    clocks = (await shown_clocks(session, scope, [case.tracking_id])).get(case.tracking_id, NO_CLOCKS)
    follow_ups = await repo.follow_ups_of(session, case.tracking_id)
    attachments = await visible_attachments(session, case.tracking_id, scope.code)
    latest = await repo.messages_of(session, case.tracking_id, Page(limit=THREAD_TAIL, offset=0))
    history = await repo.history_of(session, case.tracking_id)
    return CaseDetail(
        tracking_id=case.tracking_id,
        title=case.title,
        content=case.content,
        classification=case.classification,
        category=case.category,
        region_code=case.region_code,
        channel=case.channel,
        incident_date=case.incident_date,
        is_anonymous=case.is_anonymous,
        is_confidential=case.is_confidential,
        reporter_name=ANONYMOUS_NAME if case.is_anonymous else names.read(case.reporter_name_sealed),
        submitted_at=case.submitted_at,
        status=case.status,
        status_label=_label(case.status),
        case_version=case.case_version,
        agency_code=case.agency_code,
        previous_agency_code=case.previous_agency_code,
        route_kind=case.route_kind,
        disposition_reason=case.disposition_reason,
        dispositioned_at=case.dispositioned_at,
        acknowledged_at=case.acknowledged_at,
        forward_requested_at=case.forward_requested_at,
        forward_reason=case.forward_reason,
        suggested_agency_code=case.forward_suggested_code,
        delegation_requested_at=case.delegation_requested_at,
        delegation_target_code=case.delegation_target_code,
        final_posted_at=case.final_posted_at,
        clocks=clocks.clocks,
        escalation_level=clocks.escalation_level,
        follow_ups=[
            _follow_up_view(f, [a.id for a in attachments if a.followup_id == f.followup_id]) for f in follow_ups
        ],
        attachments=attachments,
        messages=[_message_view(m) for m in reversed(latest[:THREAD_TAIL])],
        messages_total=await repo.message_count(session, case.tracking_id),
        messages_next=THREAD_TAIL if len(latest) > THREAD_TAIL else None,
        history=[
            HistoryEntry(
                at=h.at,
                kind=h.kind,
                status=h.status,
                agency_code=h.agency_code,
                actor=h.actor,
                note=h.note,
            )
            for h in history
        ],
    )


def _message_view(m: CaseMessage) -> MessageView:
    return MessageView(message_id=m.message_id, content=m.content, disputes_answer=m.disputes_answer, sent_at=m.sent_at)


async def case_messages(session: AsyncSession, principal: Principal, tracking_id: str, page: Page) -> MessagePage:
    held = await held_case(session, principal, tracking_id)
    rows = await repo.messages_of(session, held.case.tracking_id, page)
    return MessagePage(items=[_message_view(m) for m in rows[: page.limit]], next_offset=page.next_offset(len(rows)))


async def case_detail(session: AsyncSession, principal: Principal, tracking_id: str, names: NameSeal) -> CaseDetail:
    held = await held_case(session, principal, tracking_id)
    return await detail(session, held.case, held.scope, names)


def _illegal(case: Case, action: str) -> ApiError:
    return ApiError(409, "illegal_transition", f"a case that is {case.status} cannot be {action}")


def require_workable(case: Case, action: str) -> None:
    """Posting, forwarding and delegating need a workable status, no final answer and nothing pending."""
    if Status(case.status) not in WORKABLE:
        raise _illegal(case, action)
    if case.final_posted_at is not None:
        raise ApiError(409, "final_follow_up_posted", "a final follow-up was posted; wait for the reporter or the hub")
    if case.forward_requested_at is not None:
        raise ApiError(409, "forward_pending", "a forward of this case is waiting for the hub")
    if case.delegation_requested_at is not None:
        raise ApiError(409, "delegation_pending", "a delegation of this case is waiting for the hub")


async def acknowledge(session: AsyncSession, ctx: AgencyContext, principal: Principal, tracking_id: str) -> CaseDetail:
    now = ctx.clock.now()
    held = await held_case(session, principal, tracking_id, lock=True)
    case = held.case
    status = Status(case.status)
    if status not in WORKABLE:
        raise _illegal(case, "acknowledged")
    if status is Status.dispositioned and case.acknowledged_at is None:
        case.acknowledged_at = now
        case.updated_at = now
        await ctx.outbox.add(
            session,
            AgencyAcknowledged(
                tracking_id=case.tracking_id, agency_code=case.agency_code, actor=principal.actor, acknowledged_at=now
            ),
        )
        await repo.add_history(
            session, case.tracking_id, at=now, kind="acknowledged", agency_code=case.agency_code, actor=principal.actor
        )
        await _audit(session, principal, "agency.acknowledge", case, now)
        log.info("case_acknowledged", agency_code=case.agency_code)
    return await detail(session, case, held.scope, ctx.names)


async def post_follow_up(
    session: AsyncSession, ctx: AgencyContext, principal: Principal, tracking_id: str, body: FollowUpIn
) -> FollowUpView:
    now = ctx.clock.now()
    held = await held_case(session, principal, tracking_id, lock=True)
    case = held.case
    require_workable(case, "followed up")
    follow_up = FollowUp(
        followup_id=str(uuid.uuid4()),
        tracking_id=case.tracking_id,
        agency_code=case.agency_code,
        agency_name=held.holder.name if held.holder else None,
        author_code=held.scope.code,
        content=body.content,
        is_final=body.is_final,
        posted_at=now,
    )
    session.add(follow_up)
    await name_files(session, case.tracking_id, body.attachment_ids, follow_up.followup_id, held.scope.code)
    if body.is_final:
        case.final_posted_at = now
    case.updated_at = now
    await ctx.outbox.add(
        session,
        FollowupPosted(
            tracking_id=case.tracking_id,
            followup_id=follow_up.followup_id,
            agency_code=follow_up.agency_code,
            agency_name=follow_up.agency_name,
            content=follow_up.content,
            is_final=follow_up.is_final,
            actor=principal.actor,
            posted_at=now,
            attachment_ids=list(dict.fromkeys(body.attachment_ids)),
        ),
    )
    await repo.add_history(
        session,
        case.tracking_id,
        at=now,
        kind="follow_up",
        agency_code=case.agency_code,
        actor=principal.actor,
        note="final" if body.is_final else "progress",
    )
    await _audit(
        session, principal, "agency.follow_up", case, now, followup_id=follow_up.followup_id, is_final=body.is_final
    )
    log.info("follow_up_posted", agency_code=case.agency_code, is_final=body.is_final)
    return _follow_up_view(follow_up, list(dict.fromkeys(body.attachment_ids)))


async def request_forward(
    session: AsyncSession, ctx: AgencyContext, principal: Principal, tracking_id: str, body: ForwardIn
) -> CaseDetail:
    now = ctx.clock.now()
    held = await held_case(session, principal, tracking_id, lock=True)
    case = held.case
    if body.suggested_agency_code == case.agency_code:
        raise ApiError(422, "invalid_forward", "the suggested node already holds the case")
    require_workable(case, "forwarded")
    case.forward_requested_at = now
    case.forward_reason = body.reason
    case.forward_suggested_code = body.suggested_agency_code
    case.updated_at = now
    await ctx.outbox.add(
        session,
        AgencyForwardRequested(
            tracking_id=case.tracking_id,
            agency_code=case.agency_code,
            reason=body.reason,
            suggested_agency_code=body.suggested_agency_code,
            actor=principal.actor,
            requested_at=now,
        ),
    )
    note = body.reason if body.suggested_agency_code is None else f"{body.reason} (-> {body.suggested_agency_code})"
    await repo.add_history(
        session,
        case.tracking_id,
        at=now,
        kind="forward_requested",
        agency_code=case.agency_code,
        actor=principal.actor,
        note=note,
    )
    await _audit(
        session,
        principal,
        "agency.forward",
        case,
        now,
        reason=body.reason,
        suggested_agency_code=body.suggested_agency_code,
    )
    log.info("forward_requested", agency_code=case.agency_code, suggested=body.suggested_agency_code)
    return await detail(session, case, held.scope, ctx.names)


async def delegate(
    session: AsyncSession, ctx: AgencyContext, principal: Principal, tracking_id: str, body: DelegateIn
) -> CaseDetail:
    now = ctx.clock.now()
    held = await held_case(session, principal, tracking_id, lock=True)
    case = held.case
    target = await get_node(session, body.agency_code)
    if target is None or not held.scope.covers(target.code, target.path):
        raise not_found("agency")
    holder_path = held.holder.path if held.holder else None
    if holder_path is None or target.code == case.agency_code or not target.path.startswith(holder_path):
        raise ApiError(
            422, "invalid_delegation", f"{target.code} is not a descendant of the case's holder {case.agency_code}"
        )
    if not target.is_active:
        raise ApiError(422, "invalid_delegation", f"{target.code} is not active")
    require_workable(case, "delegated")
    case.delegation_requested_at = now
    case.delegation_target_code = target.code
    case.updated_at = now
    await ctx.outbox.add(
        session,
        AgencyDelegated(
            tracking_id=case.tracking_id,
            from_agency_code=case.agency_code,
            agency_code=target.code,
            reason=body.reason,
            actor=principal.actor,
            delegated_at=now,
        ),
    )
    await repo.add_history(
        session,
        case.tracking_id,
        at=now,
        kind="delegation_requested",
        agency_code=target.code,
        actor=principal.actor,
        note=body.reason,
    )
    await _audit(session, principal, "agency.delegate", case, now, reason=body.reason, target_agency_code=target.code)
    log.info("delegation_requested", agency_code=case.agency_code, target=target.code)
    return await detail(session, case, held.scope, ctx.names)


async def _audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    case: Case,
    now: datetime,
    *,
    reason: str | None = None,
    **details: object,
) -> None:
    """What the key did to the case; never the follow-up's text or anything of the reporter's."""
    await audit.record(
        session,
        KIT,
        audit.Entry(
            actor=principal.actor,
            action=action,
            target_type=audit.Target.case,
            target_id=case.tracking_id,
            at=now,
            reason=reason,
            details={"key_id": principal.key_id, "agency_code": case.agency_code, **details},
        ),
    )
