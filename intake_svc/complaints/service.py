"""Complaint logic: preparing a submission, the reporter's view, messages and ratings. Never commits."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake_svc.attachments.visibility import visible as visible_attachments
from intake_svc.complaints import repository
from intake_svc.complaints.limits import ReceiptGate, SenderGate
from intake_svc.complaints.schemas import (
    CaseView,
    FollowUpView,
    MessageCreated,
    MessageIn,
    MessagePage,
    MessageView,
    RatingIn,
    RatingView,
    SenderIn,
    SubmissionWarning,
    SubmitRequest,
    SubmitResponse,
    TimelineItem,
)
from intake_svc.complaints.writer import PreparedSubmission
from intake_svc.context import IntakeContext
from intake_svc.models import Complaint, Contact, Rating, ReporterMessage
from intake_svc.privacy import IntakeSealers
from shared.calendar import zone
from shared.crypto import MAX_RECEIPT_LENGTH, Sealer, hash_receipt, hash_secret, new_receipt, secrets_equal
from shared.domain import STATUS_LABELS, Classification, Status, Timezone
from shared.errors import ApiError, invalid_field
from shared.events.contracts import (
    CaseSnapshot,
    ComplaintSubmitted,
    ContactDetails,
    ContactRegistered,
    EventData,
    ReporterRated,
    ReporterReplied,
)
from shared.http.paging import THREAD_TAIL, Page
from shared.http.ratelimit import too_many_requests
from shared.logging import bind_tracking_id, get_logger
from shared.outbox import Outbox
from shared.phones import e164, may_text

log = get_logger(__name__)

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_PREFIX = "SPL-"
_NO_RECEIPT_HASH = hash_secret("no such receipt")
_CLOSED = frozenset({Status.rejected, Status.completed, Status.archived})
_RATABLE = frozenset({Status.answered, Status.completed})
_NO_ANSWER_AWAITED = frozenset({Status.answered, Status.completed, Status.rejected, Status.archived})
_DISPLAY_ZONE = zone(Timezone.WIB)
_MESSAGE_WINDOW = timedelta(hours=1)


def new_tracking_id() -> str:
    """`SPL-` and 10 random Crockford base32 characters (50 bits), e.g. SPL-7K3F9Q2XAB."""
    bits = secrets.randbits(50)
    return TRACKING_PREFIX + "".join(CROCKFORD[(bits >> shift) & 31] for shift in range(45, -5, -5))


def request_hash(request: SubmitRequest) -> str:
    """SHA-256 of the validated request's canonical JSON: what an Idempotency-Key is bound to."""
    canonical = orjson.dumps(request.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def check_phone(request: SubmitRequest, other_countries: tuple[str, ...]) -> None:
    """422 for a phone number the hub does not text: only Indonesian mobiles, and the countries the settings name."""
    phone = request.reporter.phone if request.reporter else None
    if phone is None or may_text(phone, other_countries):
        return
    accepted = "+62 8..." + "".join(f", +{c}" for c in other_countries)
    raise invalid_field(
        ("body", "reporter", "phone"),
        f"hanya nomor ponsel {accepted} yang diterima; only mobile numbers {accepted} are accepted",
        "phone_not_accepted",
    )


def prepare_submission(
    request: SubmitRequest,
    *,
    idempotency_key: str | None,
    sealers: IntakeSealers,
    outbox: Outbox,
    now: datetime,
    idempotency_ttl: timedelta,
    warnings: list[SubmissionWarning] | None = None,
) -> tuple[PreparedSubmission, SubmitResponse]:
    """Everything one submission writes, computed up front: the writer only inserts it."""
    tracking_id = new_tracking_id()
    receipt = new_receipt()
    response = SubmitResponse(
        tracking_id=tracking_id,
        receipt=receipt,
        status=Status.submitted,
        submitted_at=now,
        warnings=warnings or [],
    )
    events = _submission_events(request, tracking_id, receipt, sealers, now)
    prepared = PreparedSubmission(
        tracking_id=tracking_id,
        complaint=_complaint_row(request, tracking_id, receipt, now),
        timeline={
            "tracking_id": tracking_id,
            "entry_key": "submitted",
            "at": now,
            "status": Status.submitted.value,
            "note": None,
        },
        outbox=[outbox.row(outbox.envelope(e), e) for e in events],
        contact=_contact_row(request, tracking_id, sealers, now),
        idempotency=(
            None
            if idempotency_key is None
            else _idempotency_row(idempotency_key, request, response, sealers, now, idempotency_ttl)
        ),
    )
    return prepared, response


def _complaint_row(request: SubmitRequest, tracking_id: str, receipt: str, now: datetime) -> dict[str, Any]:
    return {
        "tracking_id": tracking_id,
        "receipt_hash": hash_receipt(receipt),
        "title": request.title,
        "content": request.content,
        "classification": request.classification.value,
        "category": request.category,
        "region_code": request.region_code,
        "agency_code": request.agency_code,
        "channel": request.channel.value,
        "incident_date": request.incident_date,
        "is_anonymous": request.is_anonymous,
        "is_confidential": request.is_confidential,
        "language": request.language,
        "status": Status.submitted.value,
        "case_version": 0,
        "holder_agency_code": None,
        "expected_answer_by": None,
        "clocks_version": 0,
        "submitted_at": now,
        "updated_at": now,
    }


def _contact_row(
    request: SubmitRequest, tracking_id: str, sealers: IntakeSealers, now: datetime
) -> dict[str, Any] | None:
    """The reporter's contact details, sealed at rest; None when the reporter gave none."""
    reporter = request.reporter
    if reporter is None or not (reporter.name or reporter.email or reporter.phone):
        return None
    return {
        "tracking_id": tracking_id,
        "name_sealed": sealers.at_rest.seal_optional(reporter.name),
        "email_sealed": sealers.at_rest.seal_optional(reporter.email),
        "phone_sealed": sealers.at_rest.seal_optional(reporter.phone),
        "created_at": now,
    }


def _submission_events(
    request: SubmitRequest, tracking_id: str, receipt: str, sealers: IntakeSealers, now: datetime
) -> list[EventData]:
    """complaint.submitted with what an agency may see, and contact.registered with the sealed contact details: an
    anonymous reporter's name is in neither, it stays in intake."""
    reporter = request.reporter
    name = reporter.name if reporter else None
    email = reporter.email if reporter else None
    phone = reporter.phone if reporter else None
    snapshot = CaseSnapshot(
        title=request.title,
        content=request.content,
        classification=request.classification,
        category=request.category,
        region_code=request.region_code,
        channel=request.channel,
        incident_date=request.incident_date,
        is_anonymous=request.is_anonymous,
        is_confidential=request.is_confidential,
        reporter_name_sealed=None if request.is_anonymous else sealers.identity.seal_optional(name),
        submitted_at=now,
    )
    return [
        ComplaintSubmitted(tracking_id=tracking_id, agency_code=request.agency_code, case=snapshot),
        ContactRegistered(
            tracking_id=tracking_id,
            details_sealed=ContactDetails(
                name=None if request.is_anonymous else name,
                email=email,
                phone=phone,
                receipt=receipt if email or phone else None,
            ).seal(sealers.contact),
            language=request.language,
            is_anonymous=request.is_anonymous,
        ),
    ]


def _idempotency_row(
    key: str, request: SubmitRequest, response: SubmitResponse, sealers: IntakeSealers, now: datetime, ttl: timedelta
) -> dict[str, Any]:
    """The Idempotency-Key's claim: the request it is bound to and the first answer, sealed for its replay."""
    return {
        "key_hash": hash_secret(key),
        "request_hash": request_hash(request),
        "tracking_id": response.tracking_id,
        "response_sealed": sealers.at_rest.seal(response.model_dump_json()),
        "created_at": now,
        "expires_at": now + ttl,
    }


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "complaint not found")


async def authorize(session: AsyncSession, tracking_id: str, receipt: str | None, gate: ReceiptGate) -> Complaint:
    """The case, if the receipt opens it. Unknown case, missing or wrong receipt: the same 404 (and a strike).

    Once the client has failed too often, 429 until its lockout ends, even for the right receipt. Cases are not
    counted: anyone who knows a tracking id could otherwise lock its reporter out.
    """
    gate.admit()
    complaint = await repository.get_complaint(session, tracking_id) if len(tracking_id) <= 40 else None
    given = hash_receipt(receipt) if receipt and len(receipt) <= MAX_RECEIPT_LENGTH else _NO_RECEIPT_HASH
    expected = complaint.receipt_hash if complaint is not None else _NO_RECEIPT_HASH
    if complaint is None or not receipt or not secrets_equal(given, expected):
        gate.failed()
        raise _not_found()
    bind_tracking_id(complaint.tracking_id)
    return complaint


def expected_answer(complaint: Complaint) -> tuple[datetime | None, date | None]:
    """When an answer is due (UTC) and its date in WIB; none when unknown or when no answer is awaited any more."""
    # The status is checked too: the hub's status change may arrive before its clocks change.
    if complaint.expected_answer_by is None or Status(complaint.status) in _NO_ANSWER_AWAITED:
        return None, None
    due = complaint.expected_answer_by
    return due, due.astimezone(_DISPLAY_ZONE).date()


async def case_view(session: AsyncSession, tracking_id: str, receipt: str | None, gate: ReceiptGate) -> CaseView:
    complaint = await authorize(session, tracking_id, receipt, gate)
    status = Status(complaint.status)
    rating = await repository.rating(session, tracking_id)
    expected_answer_by, expected_answer_date = expected_answer(complaint)
    latest = await repository.messages(session, tracking_id, limit=THREAD_TAIL + 1, offset=0)
    total = await repository.message_total(session, tracking_id)
    return CaseView(
        tracking_id=complaint.tracking_id,
        title=complaint.title,
        classification=Classification(complaint.classification),
        category=complaint.category,
        region_code=complaint.region_code,
        status=status,
        status_label=STATUS_LABELS[status],
        is_anonymous=complaint.is_anonymous,
        is_confidential=complaint.is_confidential,
        submitted_at=complaint.submitted_at,
        updated_at=complaint.updated_at,
        agency_code=complaint.holder_agency_code,
        expected_answer_by=expected_answer_by,
        expected_answer_date=expected_answer_date,
        timeline=[
            TimelineItem(at=t.at, status=Status(t.status), status_label=STATUS_LABELS[Status(t.status)], note=t.note)
            for t in await repository.timeline(session, tracking_id)
        ],
        follow_ups=[
            FollowUpView(
                followup_id=f.followup_id,
                agency_code=f.agency_code,
                agency_name=f.agency_name,
                content=f.content,
                is_final=f.is_final,
                posted_at=f.posted_at,
                attachment_ids=f.attachment_ids,
            )
            for f in await repository.follow_ups(session, tracking_id)
        ],
        messages=[_message_view(m) for m in reversed(latest[:THREAD_TAIL])],
        messages_total=total,
        messages_next=THREAD_TAIL if len(latest) > THREAD_TAIL else None,
        rating=(
            RatingView(score=rating.score, comment=rating.comment, rated_at=rating.rated_at)
            if rating is not None
            else None
        ),
        attachments=await visible_attachments(session, tracking_id),
    )


def _message_view(m: ReporterMessage) -> MessageView:
    return MessageView(message_id=m.message_id, content=m.content, sent_at=m.sent_at, disputes_answer=m.disputes_answer)


async def message_page(
    session: AsyncSession, tracking_id: str, receipt: str | None, gate: ReceiptGate, page: Page
) -> MessagePage:
    complaint = await authorize(session, tracking_id, receipt, gate)
    rows = await repository.messages(session, complaint.tracking_id, limit=page.limit + 1, offset=page.offset)
    return MessagePage(items=[_message_view(m) for m in rows[: page.limit]], next_offset=page.next_offset(len(rows)))


async def _check_message_limits(
    session: AsyncSession, ctx: IntakeContext, complaint: Complaint, body: MessageIn, now: datetime
) -> None:
    """Refuses a message past the case's limits: in all (422) or in the last hour (429 with Retry-After).

    Counted in the database under the case's row lock, so the limits hold across replicas. A message that accepts or
    disputes the answer passes the limit in all: the case must be answered for it, so the agency's answers bound it.
    """
    per_case, per_hour = ctx.settings.reporter_messages_per_case, ctx.settings.reporter_messages_per_hour
    if not per_case and not per_hour:
        return
    await repository.lock_complaint(session, complaint)
    total, last_hour = await repository.message_counts(session, complaint.tracking_id, now - _MESSAGE_WINDOW)
    answers_the_answer = body.disputes_answer or body.accepts_answer
    if per_case and total >= per_case and not answers_the_answer:
        raise ApiError(
            422,
            "message_limit",
            f"kasus ini sudah menerima {per_case} pesan, batasnya; this case has taken its limit of {per_case}"
            " messages",
        )
    if per_hour and last_hour >= per_hour:
        reopens = await repository.nth_newest_sent_at(session, complaint.tracking_id, per_hour)
        wait = (reopens + _MESSAGE_WINDOW - now).total_seconds() if reopens is not None else 1.0
        raise too_many_requests(
            wait,
            f"terlalu banyak pesan dalam satu jam untuk kasus ini, coba lagi nanti; too many messages to this case"
            f" in an hour (at most {per_hour}), retry later",
        )


async def authorize_sender(
    session: AsyncSession, sealer: Sealer, tracking_id: str, sender: SenderIn, gate: SenderGate
) -> Complaint:
    """The case, if `sender` is its reporter's email address or phone number on file (for a channel client). Unknown
    case, a case without that contact, another sender, or a case that takes no sender (anonymous, confidential or
    WBS: its reporter replies with the receipt): the same 404 and a strike, so that a case's existence, kind and
    reporter do not leak. Past the limits, 429 until the lockout ends, even for the right sender."""
    gate.admit(tracking_id)
    complaint = await repository.get_complaint(session, tracking_id) if len(tracking_id) <= 40 else None
    if complaint is None or not _takes_sender(complaint):
        contact = None
    else:
        contact = await repository.contact(session, complaint.tracking_id)
    if complaint is None or contact is None or not _is_sender(contact, sender, sealer):
        gate.failed(tracking_id)
        raise _not_found()
    bind_tracking_id(complaint.tracking_id)
    return complaint


def _takes_sender(complaint: Complaint) -> bool:
    """A sender names the reporter: only a case whose reporter is not hidden may be written to that way."""
    hidden = complaint.is_anonymous or complaint.is_confidential
    return not hidden and complaint.classification != Classification.wbs.value


def _is_sender(contact: Contact, sender: SenderIn, sealer: Sealer) -> bool:
    """Emails compare without regard to case; phone numbers as E.164."""
    if sender.email is not None:
        email = sealer.open_optional(contact.email_sealed)
        return email is not None and secrets_equal(email.casefold(), sender.email.casefold())
    phone = sealer.open_optional(contact.phone_sealed)
    on_file = e164(phone) if phone is not None else None
    return on_file is not None and sender.phone is not None and secrets_equal(on_file, sender.phone)


async def add_message(
    session: AsyncSession, ctx: IntakeContext, tracking_id: str, receipt: str | None, gate: ReceiptGate, body: MessageIn
) -> MessageCreated:
    """The reporter's message, with the receipt."""
    complaint = await authorize(session, tracking_id, receipt, gate)
    return await _add_message(session, ctx, complaint, body)


async def add_sender_message(
    session: AsyncSession, ctx: IntakeContext, tracking_id: str, sender: SenderIn, gate: SenderGate, body: MessageIn
) -> MessageCreated:
    """A channel client's message for the case's reporter (`sender`, who must be the contact on file)."""
    complaint = await authorize_sender(session, ctx.sealers.at_rest, tracking_id, sender, gate)
    return await _add_message(session, ctx, complaint, body)


async def _add_message(
    session: AsyncSession, ctx: IntakeContext, complaint: Complaint, body: MessageIn
) -> MessageCreated:
    now = ctx.clock.now()
    status = Status(complaint.status)
    if status in _CLOSED:
        raise ApiError(409, "illegal_transition", f"a {status.value} case takes no more messages")
    if body.disputes_answer and status is not Status.answered:
        raise ApiError(409, "illegal_transition", "only an answered case can have its answer disputed")
    if body.accepts_answer and status is not Status.answered:
        raise ApiError(409, "illegal_transition", "only an answered case can have its answer accepted")
    await _check_message_limits(session, ctx, complaint, body, now)
    message = ReporterMessage(
        message_id=str(uuid.uuid4()),
        tracking_id=complaint.tracking_id,
        content=body.content,
        disputes_answer=body.disputes_answer,
        sent_at=now,
    )
    session.add(message)
    complaint.updated_at = now
    await ctx.outbox.add(
        session,
        ReporterReplied(
            tracking_id=complaint.tracking_id,
            message_id=message.message_id,
            content=body.content,
            disputes_answer=body.disputes_answer,
            accepts_answer=body.accepts_answer,
            sent_at=now,
        ),
    )
    log.info("reporter_replied", disputes_answer=body.disputes_answer)
    return MessageCreated(message_id=message.message_id, sent_at=now)


async def rate(
    session: AsyncSession, ctx: IntakeContext, tracking_id: str, receipt: str | None, gate: ReceiptGate, body: RatingIn
) -> RatingView:
    now = ctx.clock.now()
    complaint = await authorize(session, tracking_id, receipt, gate)
    if await repository.rating(session, tracking_id) is not None:
        raise ApiError(409, "already_rated", "this case has already been rated")
    status = Status(complaint.status)
    if status not in _RATABLE:
        raise ApiError(409, "illegal_transition", f"a {status.value} case cannot be rated yet")
    session.add(Rating(tracking_id=complaint.tracking_id, score=body.score, comment=body.comment, rated_at=now))
    complaint.updated_at = now
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ApiError(409, "already_rated", "this case has already been rated") from exc
    await ctx.outbox.add(
        session,
        ReporterRated(tracking_id=complaint.tracking_id, score=body.score, comment=body.comment, rated_at=now),
    )
    log.info("reporter_rated", score=body.score)
    return RatingView(score=body.score, comment=body.comment, rated_at=now)


def opened_response(sealed: str, sealer: Sealer) -> SubmitResponse:
    """The first answer to an Idempotency-Key, unsealed for its replay."""
    return SubmitResponse.model_validate_json(sealer.open(sealed))
