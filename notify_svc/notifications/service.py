"""What happens to a notification: created from an event, then sent, retried, failed or skipped. Never commits."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.models import Contact, Notification, NotificationStatus, NotifyChannel, RecipientKind
from notify_svc.notifications import repository
from notify_svc.notifications.schemas import DeliveryPage, DeliveryView
from shared.background import made_work
from shared.db.dialect import dialect_of, insert_ignore
from shared.db.results import rows_affected
from shared.errors import not_found
from shared.events import Envelope
from shared.http.paging import Page
from shared.logging import get_logger

log = get_logger(__name__)

_NAMESPACE = uuid.UUID("6f0d3c2e-4a61-5a8e-9a5d-5e1f4b7c9a10")


def notification_id(event_id: str, recipient_kind: str, recipient_id: str = "") -> str:
    """Deterministic: the same (event, recipient) always names the same notification."""
    return str(uuid.uuid5(_NAMESPACE, f"{event_id}:{recipient_kind}:{recipient_id}"))


@dataclass(frozen=True)
class Notice:
    """What a notification says (template, values, values sealed until sent) and the event and case it comes from."""

    event_id: str
    event_type: str
    template: str
    tracking_id: str | None
    context: dict[str, Any]
    context_sealed: str | None = None

    @classmethod
    def of(
        cls,
        envelope: Envelope,
        *,
        template: str,
        tracking_id: str | None,
        context: dict[str, Any],
        context_sealed: str | None = None,
    ) -> Notice:
        """The notice of the event in `envelope`."""
        return cls(str(envelope.id), envelope.type, template, tracking_id, context, context_sealed)


@dataclass(frozen=True)
class Addressee:
    """Whom a notification is for (the case's reporter, or a recipient by id) and by which channel."""

    kind: RecipientKind
    id: str = ""
    channel: NotifyChannel = NotifyChannel.email


async def enqueue(
    session: AsyncSession, notice: Notice, to: Addressee, *, now: datetime, skip_reason: str | None = None
) -> bool:
    """Create the notification of `notice` for `to`, once: a repeat inserts nothing. True when created.

    With `skip_reason` it is created skipped (nobody to send it to), so the delivery log still shows it.
    """
    skipped = skip_reason is not None
    stmt = insert_ignore(dialect_of(session), repository.TABLE).values(
        id=notification_id(notice.event_id, to.kind.value, to.id),
        event_id=notice.event_id,
        event_type=notice.event_type,
        tracking_id=notice.tracking_id,
        recipient_kind=to.kind.value,
        recipient_id=to.id,
        channel=to.channel.value,
        template=notice.template,
        context=notice.context,
        context_sealed=None if skipped else notice.context_sealed,
        status=NotificationStatus.skipped.value if skipped else NotificationStatus.pending.value,
        reason=skip_reason,
        attempts=0,
        created_at=now,
        updated_at=now,
        next_attempt_at=None if skipped else now,
    )
    result = await session.execute(stmt)
    created = rows_affected(result) == 1
    if created and not skipped:
        made_work(session, repository.WAKE_FLAG)
    log.info(
        "notification_queued",
        template=notice.template,
        recipient_kind=to.kind.value,
        channel=to.channel.value,
        created=created,
        skipped=skip_reason,
    )
    return created


def backoff(attempts: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: about base * 2^(attempts-1), between half and all of it, at most cap."""
    ceiling = min(cap, base * (2.0 ** max(attempts - 1, 0)))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


async def mark_sent(session: AsyncSession, n: Notification, *, message_id: str, channel: str, now: datetime) -> None:
    """Record `n` sent (nothing changes when it was no longer pending)."""
    await repository.finish(
        session,
        n.id,
        status=NotificationStatus.sent.value,
        attempts=n.attempts + 1,
        sent_at=now,
        next_attempt_at=None,
        reason=None,
        message_id=message_id,
        channel=channel,
        context_sealed=None,
        updated_at=now,
    )


@dataclass(frozen=True)
class Retries:
    """How many attempts a notification gets, and the backoff between them (`base` seconds at first, at most `cap`)."""

    max_attempts: int
    base: float
    cap: float


@dataclass(frozen=True)
class FailedAttempt:
    """A failed attempt: its error (no contact details), whether it was refused for good, its message id and channel."""

    error: str
    permanent: bool = False
    message_id: str | None = None
    channel: str | None = None


async def mark_attempt_failed(
    session: AsyncSession, n: Notification, attempt: FailedAttempt, retries: Retries, now: datetime
) -> str:
    """Count a failed attempt: retry later with backoff (pending), or fail for good (failed); the status it leaves."""
    attempts = n.attempts + 1
    channel = attempt.channel or n.channel
    if attempt.permanent or attempts >= retries.max_attempts:
        reason = "recipient_refused" if attempt.permanent else "max_attempts"
        await repository.finish(
            session,
            n.id,
            status=NotificationStatus.failed.value,
            attempts=attempts,
            last_error=attempt.error,
            reason=reason,
            next_attempt_at=None,
            message_id=attempt.message_id,
            channel=channel,
            context_sealed=None,
            updated_at=now,
        )
        return NotificationStatus.failed.value
    await repository.finish(
        session,
        n.id,
        attempts=attempts,
        last_error=attempt.error,
        next_attempt_at=now + timedelta(seconds=backoff(attempts, retries.base, retries.cap)),
        message_id=attempt.message_id,
        channel=channel,
        updated_at=now,
    )
    return NotificationStatus.pending.value


async def skip(session: AsyncSession, n: Notification, *, reason: str, now: datetime) -> bool:
    return await repository.finish(
        session,
        n.id,
        status=NotificationStatus.skipped.value,
        reason=reason,
        next_attempt_at=None,
        context_sealed=None,
        updated_at=now,
    )


async def await_contact(session: AsyncSession, n: Notification, *, retry_at: datetime, now: datetime) -> bool:
    """Leave it pending until the contact arrives (the private event may lag the public one); due again at once when
    it arrived since the sender looked (its arrival found nothing waiting to wake)."""
    arrived = await session.scalar(select(Contact.tracking_id).where(Contact.tracking_id == n.tracking_id))
    if arrived is not None:
        made_work(session, repository.WAKE_FLAG)
        return await repository.finish(session, n.id, next_attempt_at=now, updated_at=now)
    return await repository.finish(
        session, n.id, reason=repository.AWAITING_CONTACT, next_attempt_at=retry_at, updated_at=now
    )


async def defer(
    session: AsyncSession, n: Notification, *, until: datetime, reason: str, channel: str, now: datetime
) -> bool:
    """Hold it back until `until` (quiet hours) without counting an attempt."""
    return await repository.finish(session, n.id, reason=reason, next_attempt_at=until, channel=channel, updated_at=now)


# The delivery log ---------------------------------------------------------------------------------


async def delivery_page(
    session: AsyncSession,
    *,
    tracking_id: str | None,
    status: NotificationStatus | None,
    recipient_kind: RecipientKind | None,
    page: Page,
) -> DeliveryPage:
    rows = await repository.page(
        session,
        tracking_id=tracking_id,
        status=status.value if status else None,
        recipient_kind=recipient_kind.value if recipient_kind else None,
        page=page,
    )
    return DeliveryPage(
        items=[DeliveryView.model_validate(r) for r in rows[: page.limit]],
        next_offset=page.next_offset(len(rows)),
    )


async def delivery(session: AsyncSession, notification_id: str) -> DeliveryView:
    row = await repository.get(session, notification_id)
    if row is None:
        raise not_found("delivery")
    return DeliveryView.model_validate(row)
