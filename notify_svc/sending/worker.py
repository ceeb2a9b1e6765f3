"""The sender: picks due notifications in small batches, renders and delivers them, and records the outcome.

Each notification is first claimed (its `next_attempt_at` pushed out by a lease) in a short transaction, then
delivered with no transaction open, then its outcome is written in a second transaction, with NotificationSent
or NotificationFailed in the same one. A crash between delivery and the outcome sends it again after the
lease, with the same Message-ID (or the same `.eml` file name), so the repeat is recognisable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from prometheus_client import Counter
from sqlalchemy import event

from notify_svc.contacts.service import OpenedContact, open_contact
from notify_svc.models import Notification, NotificationStatus, RecipientKind
from notify_svc.notifications import repository, service
from notify_svc.sending.mail import (
    PermanentFailure,
    Transport,
    build_message,
    message_id_for,
    redact,
    transport_for,
    valid_address,
)
from notify_svc.sending.templates import Renderer
from notify_svc.settings import NotifySettings
from notify_svc.timeutil import as_utc
from shared.crypto import Sealer
from shared.domain import STATUS_LABELS, Status
from shared.logging import bind_tracking_id, clear_context, get_logger
from shared.runtime import Runtime

log = get_logger(__name__)

T = TypeVar("T")

NOTIFICATIONS = Counter(
    "simpul_notifications_total",
    "Notification delivery outcomes: sent, retry, failed, skipped, awaiting_contact",
    ["service", "template", "outcome"],
)


class Sender:
    def __init__(
        self,
        settings: NotifySettings,
        sealer: Sealer,
        *,
        renderer: Renderer | None = None,
        transport: Transport | None = None,
    ):
        self.settings = settings
        self.sealer = sealer
        self.renderer = renderer or Renderer()
        self.transport = transport or transport_for(settings)
        self._wake = asyncio.Event()

    def wake(self, *_: Any) -> None:
        self._wake.set()

    async def run(self, runtime: Runtime) -> None:
        """Loop until the service stops: send what is due, then wait for a commit (new work) or the poll interval."""
        event.listen(runtime.db.sync_session_class, "after_commit", self.wake)
        pause = 0.2
        try:
            while not runtime.stopping.is_set():
                raise_if_cancelling()
                self._wake.clear()
                try:
                    picked = await self.run_once(runtime)
                    pause = 0.2
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("sender_failed", error=repr(exc), retry_in=pause)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, 10.0)
                    continue
                if picked >= self.settings.sender_batch:
                    continue
                # asyncio.wait, not wait_for: on Python 3.11 wait_for can swallow a cancel that races its timeout.
                waiter = asyncio.ensure_future(self._wake.wait())
                stopping = asyncio.ensure_future(runtime.stopping.wait())
                try:
                    await asyncio.wait(
                        {waiter, stopping}, timeout=self.settings.sender_poll_interval, return_when="FIRST_COMPLETED"
                    )
                finally:
                    waiter.cancel()
                    stopping.cancel()
        finally:
            event.remove(runtime.db.sync_session_class, "after_commit", self.wake)

    async def run_once(self, runtime: Runtime) -> int:
        """Claim up to one batch of due notifications and process each; the number found due."""
        now = runtime.clock.now()
        due, claimed = await finish_even_if_cancelled(self._claim(runtime, now))
        left = list(claimed)
        try:
            while left:
                raise_if_cancelling()
                try:
                    await self.process(runtime, left[0])
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # One bad notification (say, a contact sealed with a retired key) must not stall the rest.
                    await finish_even_if_cancelled(self._broken(runtime, left[0], exc))
                finally:
                    clear_context()
                left.pop(0)
        finally:
            if left:
                # Stopped (or failed) in the middle of a batch: hand the rest back instead of holding the lease.
                await finish_even_if_cancelled(self._release(runtime, left))
        return due

    async def _claim(self, runtime: Runtime, now: datetime) -> tuple[int, list[str]]:
        lease_until = now + timedelta(seconds=self.settings.send_lease_seconds)
        async with runtime.db.session() as session, session.begin():
            due = await repository.due(session, now, self.settings.sender_batch)
            claimed = [n for n in due if await repository.claim(session, n, now, lease_until)]
        return len(due), claimed

    async def _broken(self, runtime: Runtime, notification_id: str, exc: Exception) -> None:
        """Count an attempt that failed before delivery (no contact details are in these errors)."""
        error = redact(f"{type(exc).__name__}: {exc}", [])
        now = runtime.clock.now()
        async with runtime.db.session() as session, session.begin():
            n = await session.get(Notification, notification_id)
            if n is None or n.status != NotificationStatus.pending.value:
                return
            await service.mark_attempt_failed(
                session,
                runtime.outbox,
                n,
                error=error,
                now=now,
                max_attempts=self.settings.max_attempts,
                retry_base=self.settings.retry_base_seconds,
                retry_cap=self.settings.retry_max_seconds,
            )
        log.warning("notification_processing_failed", notification_id=notification_id, error=error)

    async def _release(self, runtime: Runtime, ids: list[str]) -> None:
        async with runtime.db.session() as session, session.begin():
            await repository.release(session, ids, runtime.clock.now())

    async def _load(self, runtime: Runtime, notification_id: str) -> tuple[Notification | None, OpenedContact | None]:
        async with runtime.db.session() as session:
            n = await session.get(Notification, notification_id)
            if n is None or n.status != NotificationStatus.pending.value:
                return None, None
            session.expunge(n)
            contact = None
            if n.recipient_kind == RecipientKind.reporter.value and n.tracking_id:
                contact = await open_contact(session, self.sealer, n.tracking_id)
            await session.rollback()
        return n, contact

    async def process(self, runtime: Runtime, notification_id: str) -> None:
        n, contact = await finish_even_if_cancelled(self._load(runtime, notification_id))
        if n is None:
            return
        bind_tracking_id(n.tracking_id)
        now = runtime.clock.now()
        if contact is None:
            await finish_even_if_cancelled(self._no_contact(runtime, n, now))
            return
        if not contact.email:
            await finish_even_if_cancelled(self._finish_skip(runtime, n, "no_email", now))
            return
        if not valid_address(contact.email):
            await finish_even_if_cancelled(self._finish_skip(runtime, n, "invalid_email", now))
            return
        message_id = message_id_for(n.id, self.settings.mail_from)
        try:
            rendered = self.renderer.render(n.template, contact.language, self.context(n, contact))
            message = build_message(
                notification_id=n.id,
                mail_from=self.settings.mail_from,
                to=contact.email,
                subject=rendered.subject,
                body=rendered.body,
                language=contact.language,
                now=now,
            )
            await self.transport.deliver(message, n.id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await finish_even_if_cancelled(self._failed(runtime, n, contact, exc, message_id))
            return
        await finish_even_if_cancelled(self._sent(runtime, n, contact, message_id))

    async def _sent(self, runtime: Runtime, n: Notification, contact: OpenedContact, message_id: str) -> None:
        async with runtime.db.session() as session, session.begin():
            await service.mark_sent(session, runtime.outbox, n, message_id=message_id, now=runtime.clock.now())
        NOTIFICATIONS.labels(runtime.service, n.template, "sent").inc()
        log.info(
            "notification_sent",
            notification_id=n.id,
            template=n.template,
            language=contact.language,
            attempts=n.attempts + 1,
            transport=type(self.transport).__name__,
        )

    def context(self, n: Notification, contact: OpenedContact) -> dict[str, Any]:
        """The template's values: the stored context, plus what is derived at send time (link, labels, name)."""
        ctx: dict[str, Any] = dict(n.context)
        base = self.settings.public_base_url.rstrip("/")
        if n.tracking_id:
            ctx.setdefault("tracking_id", n.tracking_id)
            ctx["link"] = f"{base}/api/v1/complaints/{n.tracking_id}"
        status = ctx.get("status")
        if status is not None:
            ctx["status_label"] = STATUS_LABELS[Status(status)]
        ctx["reporter_name"] = None if contact.is_anonymous else contact.name
        ctx["language"] = contact.language
        return ctx

    async def _no_contact(self, runtime: Runtime, n: Notification, now: datetime) -> None:
        waited = (now - as_utc(n.created_at)).total_seconds()
        if waited >= self.settings.contact_wait_seconds:
            await self._finish_skip(runtime, n, "no_contact", now)
            return
        retry_at = now + timedelta(seconds=self.settings.contact_retry_seconds)
        async with runtime.db.session() as session, session.begin():
            await service.await_contact(session, n, retry_at=retry_at, now=now)
        NOTIFICATIONS.labels(runtime.service, n.template, "awaiting_contact").inc()
        log.info("notification_awaits_contact", notification_id=n.id, waited_s=round(waited, 1))

    async def _finish_skip(self, runtime: Runtime, n: Notification, reason: str, now: datetime) -> None:
        async with runtime.db.session() as session, session.begin():
            await service.skip(session, n, reason=reason, now=now)
        NOTIFICATIONS.labels(runtime.service, n.template, "skipped").inc()
        log.info("notification_skipped", notification_id=n.id, template=n.template, reason=reason)

    async def _failed(
        self, runtime: Runtime, n: Notification, contact: OpenedContact, exc: Exception, message_id: str
    ) -> None:
        error = redact(f"{type(exc).__name__}: {exc}", contact.secrets())
        now = runtime.clock.now()
        async with runtime.db.session() as session, session.begin():
            outcome = await service.mark_attempt_failed(
                session,
                runtime.outbox,
                n,
                error=error,
                now=now,
                max_attempts=self.settings.max_attempts,
                retry_base=self.settings.retry_base_seconds,
                retry_cap=self.settings.retry_max_seconds,
                permanent=isinstance(exc, PermanentFailure),
                message_id=message_id,
            )
        NOTIFICATIONS.labels(runtime.service, n.template, "retry" if outcome == "pending" else "failed").inc()
        log.warning(
            "notification_attempt_failed",
            notification_id=n.id,
            template=n.template,
            attempts=n.attempts + 1,
            outcome=outcome,
            error=error,
        )


async def finish_even_if_cancelled(aw: Awaitable[T]) -> T:
    """Run a database unit to its end even when the worker is cancelled meanwhile, then honour the cancel.

    Cancelling a task in the middle of a statement can strand the connection (SQLite has only one), so
    the worker is cancelled only between units of work.
    """
    task = asyncio.ensure_future(aw)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait({task})
        raise


def raise_if_cancelling() -> None:
    """Honour a cancel that a library swallowed (asyncio.wait_for on 3.11 may): the task still counts it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
