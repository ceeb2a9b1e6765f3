"""The sender: picks due notifications in small batches, renders and delivers them, and records the outcome.

Each notification is first claimed (its `next_attempt_at` pushed out by a lease) in a short transaction, then
delivered with no transaction open, then its outcome is written in a second transaction, with NotificationSent
or NotificationFailed in the same one. A crash between delivery and the outcome sends it again after the
lease, with the same Message-ID (or `.eml` file name, or the SMS gateway's Idempotency-Key), so the repeat is
recognisable. A message to a person that falls in their quiet hours is put back until the quiet hours end, without
counting an attempt.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy import event

from notify_svc.models import Notification, NotificationStatus, NotifyChannel, RecipientKind
from notify_svc.notifications import repository, service
from notify_svc.sending.addresses import Address, Unreachable, resolve
from notify_svc.sending.errors import PermanentFailure, redact
from notify_svc.sending.mail import Transport, build_message, message_id_for, transport_for
from notify_svc.sending.sms import SmsMessage, SmsTransport, sms_transport_for
from notify_svc.sending.templates import Renderer
from notify_svc.settings import NotifySettings
from notify_svc.timeutil import as_utc
from shared.background import finish_even_if_cancelled, raise_if_cancelling, wait_for_any, wake_on_commit
from shared.crypto import Sealer
from shared.domain import STATUS_LABELS, Status
from shared.logging import bind_tracking_id, clear_context, get_logger
from shared.runtime import Runtime

log = get_logger(__name__)

NOTIFICATIONS = Counter(
    "simpul_notifications_total",
    "Notification delivery outcomes: sent, retry, failed, skipped, awaiting_contact, deferred",
    ["service", "template", "outcome"],
)


@dataclass(frozen=True)
class Loaded:
    """A notification picked for sending, where it goes, and its sealed context opened. In memory only."""

    n: Notification
    target: Address | Unreachable
    secret: dict[str, Any]

    def __repr__(self) -> str:
        return f"Loaded(notification_id={self.n.id!r}, <recipient and secrets hidden>)"

    def secrets(self) -> list[str]:
        found = [str(v) for v in self.secret.values() if v]
        if isinstance(self.target, Address):
            found += self.target.secrets
        return found


class Sender:
    def __init__(
        self,
        settings: NotifySettings,
        sealer: Sealer,
        *,
        renderer: Renderer | None = None,
        transport: Transport | None = None,
        sms: SmsTransport | None = None,
    ):
        self.settings = settings
        self.sealer = sealer
        self.renderer = renderer or Renderer()
        self.transport = transport or transport_for(settings)
        self.sms = sms or sms_transport_for(settings)
        self.quiet = settings.quiet()
        self._wake = asyncio.Event()

    async def run(self, runtime: Runtime) -> None:
        """Loop until the service stops: send what is due, then wait for a commit (new work) or the poll interval."""
        on_commit = wake_on_commit(repository.WAKE_FLAG, self._wake)
        event.listen(runtime.db.sync_session_class, "after_commit", on_commit)
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
                await wait_for_any(self._wake, runtime.stopping, timeout=self.settings.sender_poll_interval)
        finally:
            event.remove(runtime.db.sync_session_class, "after_commit", on_commit)

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

    async def _load(self, runtime: Runtime, notification_id: str) -> Loaded | None:
        async with runtime.db.session() as session:
            n = await session.get(Notification, notification_id)
            if n is None or n.status != NotificationStatus.pending.value:
                return None
            session.expunge(n)
            target = await resolve(session, self.sealer, n, self.settings.default_timezone)
            await session.rollback()
        secret = json.loads(self.sealer.open(n.context_sealed)) if n.context_sealed else {}
        return Loaded(n, target, secret)

    async def process(self, runtime: Runtime, notification_id: str) -> None:
        loaded = await finish_even_if_cancelled(self._load(runtime, notification_id))
        if loaded is None:
            return
        n, target = loaded.n, loaded.target
        bind_tracking_id(n.tracking_id)
        now = runtime.clock.now()
        if isinstance(target, Unreachable):
            if target.wait:
                await finish_even_if_cancelled(self._no_contact(runtime, n, now))
            else:
                await finish_even_if_cancelled(self._finish_skip(runtime, n, target.reason, now))
            return
        until = self.quiet.until(now, target.timezone) if self.quiet and target.person else None
        if until is not None:
            await finish_even_if_cancelled(self._defer(runtime, n, target, until, now))
            return
        try:
            message_id = await self._deliver(n, target, self.context(n, target, loaded.secret), now)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await finish_even_if_cancelled(self._failed(runtime, n, target, exc, loaded.secrets()))
            return
        await finish_even_if_cancelled(self._sent(runtime, n, target, message_id))

    async def _deliver(self, n: Notification, to: Address, ctx: dict[str, Any], now: datetime) -> str:
        """Render and hand over the message; the message id it is known by."""
        if to.channel is NotifyChannel.sms:
            text = self.renderer.render_sms(n.template, to.language, ctx)
            return await self.sms.send(SmsMessage(notification_id=n.id, to=to.to, text=text)) or n.id
        rendered = self.renderer.render(n.template, to.language, ctx)
        message = build_message(
            notification_id=n.id,
            mail_from=self.settings.mail_from,
            to=to.to,
            subject=rendered.subject,
            body=rendered.body,
            language=to.language,
            now=now,
        )
        await self.transport.deliver(message, n.id)
        return message_id_for(n.id, self.settings.mail_from)

    async def _sent(self, runtime: Runtime, n: Notification, to: Address, message_id: str) -> None:
        async with runtime.db.session() as session, session.begin():
            await service.mark_sent(
                session, runtime.outbox, n, message_id=message_id, channel=to.channel.value, now=runtime.clock.now()
            )
        NOTIFICATIONS.labels(runtime.service, n.template, "sent").inc()
        log.info(
            "notification_sent",
            notification_id=n.id,
            template=n.template,
            channel=to.channel.value,
            language=to.language,
            attempts=n.attempts + 1,
            transport=type(self.sms if to.channel is NotifyChannel.sms else self.transport).__name__,
        )

    def link(self, n: Notification) -> str:
        """Where the recipient follows it: the reporter's view, the agency's case, the hub's case, or the inbox."""
        base = self.settings.public_base_url.rstrip("/")
        if not n.tracking_id:
            return f"{base}/api/v1/agency/complaints"
        area = {RecipientKind.reporter.value: "complaints", RecipientKind.liaison.value: "agency/complaints"}
        return f"{base}/api/v1/{area.get(n.recipient_kind, 'hub/complaints')}/{n.tracking_id}"

    def context(self, n: Notification, to: Address, secret: dict[str, Any]) -> dict[str, Any]:
        """The template's values: the stored context, the sealed part opened, and what is derived at send time."""
        ctx: dict[str, Any] = {**n.context, **secret}
        if n.tracking_id:
            ctx.setdefault("tracking_id", n.tracking_id)
        ctx["link"] = self.link(n)
        status = ctx.get("status")
        if status is not None:
            ctx["status_label"] = STATUS_LABELS[Status(status)]
        ctx["recipient_kind"] = n.recipient_kind
        ctx["recipient_name"] = to.name
        ctx["language"] = to.language
        ctx["timezone"] = to.timezone
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

    async def _defer(self, runtime: Runtime, n: Notification, to: Address, until: datetime, now: datetime) -> None:
        async with runtime.db.session() as session, session.begin():
            await service.defer(session, n, until=until, reason="quiet_hours", channel=to.channel.value, now=now)
        NOTIFICATIONS.labels(runtime.service, n.template, "deferred").inc()
        log.info("notification_deferred", notification_id=n.id, until=until.isoformat(), timezone=to.timezone)

    async def _finish_skip(self, runtime: Runtime, n: Notification, reason: str, now: datetime) -> None:
        async with runtime.db.session() as session, session.begin():
            await service.skip(session, n, reason=reason, now=now)
        NOTIFICATIONS.labels(runtime.service, n.template, "skipped").inc()
        log.info("notification_skipped", notification_id=n.id, template=n.template, reason=reason)

    async def _failed(self, runtime: Runtime, n: Notification, to: Address, exc: Exception, secrets: list[str]) -> None:
        error = redact(f"{type(exc).__name__}: {exc}", secrets)
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
                message_id=message_id_for(n.id, self.settings.mail_from) if to.channel is NotifyChannel.email else None,
                channel=to.channel.value,
            )
        NOTIFICATIONS.labels(runtime.service, n.template, "retry" if outcome == "pending" else "failed").inc()
        log.warning(
            "notification_attempt_failed",
            notification_id=n.id,
            template=n.template,
            channel=to.channel.value,
            attempts=n.attempts + 1,
            outcome=outcome,
            error=error,
        )
