"""An SMS from a gateway: counted against its number's daily limits, then filed as a complaint or added to the case it
replies to. Never commits."""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta

from fastapi import HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from intake_svc.channels.sms.reading import Reading, read
from intake_svc.channels.sms.schemas import InboundSms, SmsKind, SmsOutcome
from intake_svc.complaints import repository
from intake_svc.complaints import service as complaints
from intake_svc.complaints.limits import SenderGate
from intake_svc.complaints.schemas import MessageIn, ReporterIn, SenderIn, SubmitRequest
from intake_svc.complaints.writer import write_batch
from intake_svc.context import IntakeContext
from intake_svc.models import Base, SmsCount
from intake_svc.settings import IntakeSettings
from shared.calendar import zone
from shared.crypto import keyed_hash
from shared.db.dialect import count_up, dialect_of
from shared.domain import Channel, Classification, Status, Timezone
from shared.errors import ApiError
from shared.logging import get_logger

log = get_logger(__name__)

_COUNTS = Base.metadata.tables[SmsCount.__tablename__]
_DAY_ZONE = zone(Timezone.WIB)
_NUMBER_HASH_CONTEXT = b"simpul-sms-number\x00"

REPLIES = {
    "not_found": "Simpul: nomor laporan {tid} tidak ditemukan untuk nomor Anda; pesan tidak diteruskan."
    " / No such report for your number; not delivered.",
    "case_closed": "Simpul: laporan {tid} sudah ditutup dan tidak menerima pesan lagi."
    " / This report is closed and takes no more messages.",
    "message_limit": "Simpul: laporan {tid} sudah menerima terlalu banyak pesan; coba lagi nanti."
    " / This report has taken too many messages; try later.",
}


def number_hash(settings: IntakeSettings, number: str) -> str:
    """The number as the limits count it: HMAC-SHA256 under a key drawn from the service's newest encryption key, so
    the table never holds a number (a key rotation starts the day's counts again)."""
    key = hashlib.sha256(_NUMBER_HASH_CONTEXT + settings.encryption_key_list()[0].encode()).digest()
    return keyed_hash(key, number)


async def count(session: AsyncSession, number: str, kind: SmsKind, limit: int, now: datetime) -> None:
    """Counts one SMS of `kind` from the number today (WIB); 429 `sms_limit_reached` past `limit` (0: no limit).

    Counted in the database, so every replica counts the same; a refused SMS is rolled back with its count."""
    if not limit:
        return
    day = now.astimezone(_DAY_ZONE).date()
    tomorrow = datetime.combine(day + timedelta(days=1), time(0), tzinfo=_DAY_ZONE)
    stmt = count_up(
        dialect_of(session),
        _COUNTS,
        {"number_hash": number, "day": day, "kind": kind.value},
        "count",
        {"expires_at": tomorrow + timedelta(days=1)},
    )
    sent = int((await session.execute(stmt)).scalar_one())
    if sent > limit:
        what = "laporan baru" if kind is SmsKind.complaint else "balasan"
        raise ApiError(
            429,
            "sms_limit_reached",
            f"nomor ini sudah mengirim {limit} {what} lewat SMS hari ini; this number has sent its {limit} SMS"
            f" {kind.value}s for today (WIB)",
            retry_after=int((tomorrow - now).total_seconds()) + 1,
        )


async def receive(session: AsyncSession, ctx: IntakeContext, sms: InboundSms, number: str, key_id: str) -> SmsOutcome:
    """Files the SMS: a reply when it begins with a tracking id, else a new complaint. `key_id`: the gateway's
    channel key, whose failed sender checks are counted."""
    now = ctx.clock.now()
    reading = read(sms.text, ctx.settings.sms_keyword_map())
    if reading.tracking_id is not None:
        await count(session, number, SmsKind.message, ctx.settings.sms_messages_per_number_per_day, now)
        gate = SenderGate(ctx.limits, key_id)
        outcome = await _reply(session, ctx, sms.sender, reading.tracking_id, reading.content, gate)
    else:
        await count(session, number, SmsKind.complaint, ctx.settings.sms_complaints_per_number_per_day, now)
        outcome = await _file(session, ctx, sms.sender, reading, now)
    log.info("sms_received", kind=outcome.kind.value, reason=outcome.reason, keyword=reading.category is not None)
    return outcome


async def _file(session: AsyncSession, ctx: IntakeContext, sender: str, reading: Reading, now: datetime) -> SmsOutcome:
    """A new complaint in the reporter's name (their number), by the submission's own preparation and writer."""
    request = SubmitRequest(
        title=reading.title,
        content=reading.content,
        classification=Classification.pengaduan,
        category=reading.category,
        channel=Channel.sms,
        reporter=ReporterIn(phone=sender),
    )
    complaints.check_phone(request, ctx.settings.phone_country_codes())
    prepared, created = complaints.prepare_submission(
        request,
        idempotency_key=None,
        sealers=ctx.sealers,
        outbox=ctx.outbox,
        now=now,
        idempotency_ttl=timedelta(hours=ctx.settings.idempotency_ttl_hours),
    )
    # In this session's transaction, with the SMS's count and its message id's claim: all or nothing.
    await write_batch(await session.connection(), [prepared])
    return SmsOutcome(kind=SmsKind.complaint, tracking_id=created.tracking_id, status=created.status)


async def _reply(
    session: AsyncSession, ctx: IntakeContext, sender: str, tracking_id: str, content: str, gate: SenderGate
) -> SmsOutcome:
    """The SMS's text as the reporter's message on the case, when the number is the reporter's on file and the case
    takes replies by sender (not anonymous, confidential or WBS); else rejected, with nothing filed (a mistyped
    tracking id is not turned into a new complaint). Past the sender checks' limits the call is refused (429)."""
    phone = SenderIn(phone=sender)
    try:
        await complaints.add_sender_message(session, ctx, tracking_id, phone, gate, MessageIn(content=content))
    except ApiError as exc:
        return _rejected(tracking_id, _REASONS.get(exc.code), exc)
    except HTTPException as exc:  # the case's messages in the last hour
        return _rejected(tracking_id, "message_limit" if exc.status_code == 429 else None, exc)
    complaint = await repository.get_complaint(session, tracking_id)  # in the session already: the message's case
    status = Status(complaint.status) if complaint is not None else None
    return SmsOutcome(kind=SmsKind.message, tracking_id=tracking_id, status=status)


_REASONS = {"not_found": "not_found", "illegal_transition": "case_closed", "message_limit": "message_limit"}


def _rejected(tracking_id: str, reason: str | None, exc: Exception) -> SmsOutcome:
    if reason is None:
        raise exc
    return SmsOutcome(
        kind=SmsKind.rejected,
        tracking_id=None,
        status=None,
        reason=reason,
        reply=REPLIES[reason].format(tid=tracking_id),
    )
