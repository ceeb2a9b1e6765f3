"""The sender: picks due notifications in small batches, renders and delivers them, and records the outcomes.

A batch is claimed (each one's `next_attempt_at` pushed out by a lease) in one short transaction, which also reads
what finding their recipients takes. Each is then delivered with no transaction open, and the batch's outcomes are
written together in one more transaction (a slow batch writes what it has every RECORD_WITHIN_S). A crash between
delivery and the outcome sends it again after the lease, with the same Message-ID (or `.eml` file name, or the SMS
gateway's Idempotency-Key), so the repeat is recognisable. A message to a person that falls in their quiet hours is
put back until the quiet hours end, without counting an attempt.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.models import Notification, NotificationStatus, NotifyChannel, RecipientKind
from notify_svc.notifications import repository, service
from notify_svc.notifications.triggers import CONFIRMATION
from notify_svc.sending.addresses import Address, Lookup, Unreachable, lookup, resolve
from notify_svc.sending.daily_limit import DAILY_LIMIT, DailyLimit
from notify_svc.sending.errors import PermanentFailure, redact
from notify_svc.sending.mail import Mail, Transport, message_id_for, transport_for
from notify_svc.sending.sms import SmsMessage, SmsTransport, sms_transport_for
from notify_svc.sending.templates import Renderer
from notify_svc.settings import NotifySettings
from shared.background import finish_even_if_cancelled, poll_until_stopped, raise_if_cancelling, wake_on_commit
from shared.bus.consumer import infra_failure
from shared.calendar import zone
from shared.crypto import Sealer
from shared.domain import STATUS_LABELS, Status
from shared.logging import bind_tracking_id, clear_context, get_logger
from shared.reply_address import REPLY_ABOVE
from shared.runtime import Runtime

log = get_logger(__name__)

NOTIFICATIONS = Counter(
    "simpul_notifications_total",
    "Notification delivery outcomes: sent, retry, failed, skipped, awaiting_contact, deferred",
    ["service", "template", "outcome"],
)


RECORD_WITHIN_S = 1.0
"""A batch's outcomes are written at least this often: a message delivered is soon recorded, long before its lease
ends (after which another sender could take it again)."""


@dataclass(frozen=True)
class Claimed:
    """A notification this sender holds, and what was read to find its recipient. In memory only."""

    n: Notification
    found: Lookup

    def __repr__(self) -> str:
        return f"Claimed(notification_id={self.n.id!r}, <recipient hidden>)"


@dataclass(frozen=True)
class Outcome:
    """What became of one notification: the state change to write, and what to count and log once it is committed."""

    n: Notification
    write: Callable[[AsyncSession], Awaitable[None]]
    report: Callable[[], None]


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
        self.daily_limit = DailyLimit(settings)
        self.countries = settings.phone_country_codes()
        self.day_zone = zone(settings.default_timezone)
        self.retries = service.Retries(settings.max_attempts, settings.retry_base_seconds, settings.retry_max_seconds)
        self._wake = asyncio.Event()

    async def run(self, runtime: Runtime[Any]) -> None:
        """Loop until the service stops: send what is due, then wait for a commit (new work) or the poll interval."""
        on_commit = wake_on_commit(repository.WAKE_FLAG, self._wake)
        event.listen(runtime.db.sync_session_class, "after_commit", on_commit)

        async def once() -> bool:
            return await self.run_once(runtime) >= self.settings.sender_batch

        try:
            await poll_until_stopped(
                once,
                stopping=runtime.stopping,
                wake=self._wake,
                interval=self.settings.sender_poll_interval,
                name="sender",
            )
        finally:
            event.remove(runtime.db.sync_session_class, "after_commit", on_commit)

    async def run_once(self, runtime: Runtime[Any]) -> int:
        """Claim up to one batch of due notifications and process each; the number found due."""
        now = runtime.clock.now()
        due, claimed = await finish_even_if_cancelled(self._claim(runtime, now))
        left = list(claimed)
        done: list[Outcome] = []
        loop = asyncio.get_running_loop()
        since = loop.time()
        try:
            while left:
                raise_if_cancelling()
                try:
                    done.append(await self.process(runtime, left[0]))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # One bad notification (say, a contact sealed with a retired key) must not stall the rest.
                    done.append(self._broken(runtime, left[0].n, exc))
                finally:
                    clear_context()
                left.pop(0)
                if loop.time() - since >= RECORD_WITHIN_S:
                    batch, done = done, []
                    await finish_even_if_cancelled(self._record(runtime, batch))
                    since = loop.time()
        finally:
            try:
                if done:
                    await finish_even_if_cancelled(self._record(runtime, done))
            finally:
                if left:
                    # Stopped (or failed) in the middle of a batch: hand the rest back instead of holding the lease.
                    await finish_even_if_cancelled(self._release(runtime, [c.n.id for c in left]))
        return due

    async def _claim(self, runtime: Runtime[Any], now: datetime) -> tuple[int, list[Claimed]]:
        lease_until = now + timedelta(seconds=self.settings.send_lease_seconds)
        async with runtime.db.session() as session, session.begin():
            due, won = await repository.claim_due(session, now, lease_until, self.settings.sender_batch)
            found = await lookup(session, won)
        return due, [Claimed(n, found) for n in won]

    async def _record(self, runtime: Runtime[Any], outcomes: list[Outcome]) -> None:
        """Write the outcomes in one transaction; should that fail for one of them, each in its own, so that one bad
        write (then counted as a failed attempt) holds back none of the others."""
        try:
            await self._write(runtime, outcomes)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if infra_failure(exc):
                raise
            log.warning("notification_outcomes_write_failed", count=len(outcomes), error=redact(repr(exc), []))
        for outcome in outcomes:
            try:
                await self._write(runtime, [outcome])
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if infra_failure(exc):
                    raise
                error = exc
            try:
                await self._write(runtime, [self._broken(runtime, outcome.n, error)])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if infra_failure(exc):
                    raise
                # Left under its lease: taken again once that ends.
                log.error("notification_outcome_lost", notification_id=outcome.n.id, error=redact(repr(exc), []))

    async def _write(self, runtime: Runtime[Any], outcomes: list[Outcome]) -> None:
        async with runtime.db.session() as session, session.begin():
            for outcome in outcomes:
                await outcome.write(session)
        for outcome in outcomes:
            bind_tracking_id(outcome.n.tracking_id)
            try:
                outcome.report()
            finally:
                clear_context()

    def _broken(self, runtime: Runtime[Any], n: Notification, exc: Exception) -> Outcome:
        """An attempt that failed before delivery (no contact details are in these errors)."""
        error = redact(f"{type(exc).__name__}: {exc}", [])
        now = runtime.clock.now()

        async def write(session: AsyncSession) -> None:
            await service.mark_attempt_failed(session, n, service.FailedAttempt(error), self.retries, now)

        def report() -> None:
            log.warning("notification_processing_failed", notification_id=n.id, error=error)

        return Outcome(n, write, report)

    async def _release(self, runtime: Runtime[Any], ids: list[str]) -> None:
        async with runtime.db.session() as session, session.begin():
            await repository.release(session, ids, runtime.clock.now())

    async def process(self, runtime: Runtime[Any], claimed: Claimed) -> Outcome:
        """Deliver one claimed notification (unless it cannot or must not go now); what became of it."""
        n = claimed.n
        bind_tracking_id(n.tracking_id)
        target = resolve(claimed.found, self.sealer, n, self.settings.default_timezone, self.countries)
        secret: dict[str, Any] = json.loads(self.sealer.open(n.context_sealed)) if n.context_sealed else {}
        now = runtime.clock.now()
        if isinstance(target, Unreachable):
            if target.wait:
                return self._no_contact(runtime, n, now)
            return self._skip(runtime, n, target.reason, now)
        until = self.quiet.until(now, target.timezone) if self.quiet and target.person else None
        if until is not None:
            return self._defer(runtime, n, target, until, now)
        if not await self._within_daily_limit(runtime, n, target, now):
            return self._skip(runtime, n, DAILY_LIMIT, now)
        try:
            message_id = await self._deliver(n, target, self.context(n, target, secret), now)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            secrets = [str(v) for v in secret.values() if v] + list(target.secrets)
            return self._failed(runtime, n, target, exc, secrets)
        return self._sent(runtime, n, target, message_id)

    async def _within_daily_limit(self, runtime: Runtime[Any], n: Notification, to: Address, now: datetime) -> bool:
        """Counts a reporter's message against its destination's daily limit, once (on its first attempt: a retry
        was counted already); False when the limit is reached. Officers' work addresses are not limited."""
        if n.recipient_kind != RecipientKind.reporter.value or n.attempts > 0:
            return True
        day = now.astimezone(self.day_zone).date()
        async with runtime.db.session() as session, session.begin():
            return await self.daily_limit.admit(session, to.channel, to.to, day)

    async def _deliver(self, n: Notification, to: Address, ctx: dict[str, Any], now: datetime) -> str:
        """Render and hand over the message; the message id it is known by."""
        if to.channel is NotifyChannel.sms:
            text = self.renderer.render_sms(n.template, to.language, ctx)
            return await self.sms.send(SmsMessage(notification_id=n.id, to=to.to, text=text)) or n.id
        rendered = self.renderer.render(n.template, to.language, ctx)
        reply_to = ctx.get("reply_to")
        mail = Mail(
            reply_to=reply_to,
            auto_submitted="auto-replied" if n.template == CONFIRMATION else "auto-generated",
            notification_id=n.id,
            mail_from=self.settings.mail_from,
            to=to.to,
            subject=rendered.subject,
            body=f"{REPLY_ABOVE}\n\n{rendered.body}" if reply_to else rendered.body,
            language=to.language,
            now=now,
        )
        await self.transport.deliver(mail)
        return message_id_for(n.id, self.settings.mail_from)

    def _sent(self, runtime: Runtime[Any], n: Notification, to: Address, message_id: str) -> Outcome:
        now = runtime.clock.now()

        async def write(session: AsyncSession) -> None:
            await service.mark_sent(session, n, message_id=message_id, channel=to.channel.value, now=now)

        def report() -> None:
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

        return Outcome(n, write, report)

    def link(self, n: Notification) -> str:
        """Where the recipient follows it: the citizens' portal's tracking page for a reporter; the agency's case, the
        hub's case, or the inbox for staff."""
        base = self.settings.public_base_url.rstrip("/")
        if not n.tracking_id:
            return f"{base}/api/v1/agency/complaints"
        if n.recipient_kind == RecipientKind.reporter.value:
            return f"{base}/track/{n.tracking_id}"
        area = "agency/complaints" if n.recipient_kind == RecipientKind.liaison.value else "hub/complaints"
        return f"{base}/api/v1/{area}/{n.tracking_id}"

    def context(self, n: Notification, to: Address, secret: dict[str, Any]) -> dict[str, Any]:
        """The template's values: the stored context, the sealed part opened, and what is derived at send time."""
        ctx: dict[str, Any] = {**n.context, **secret}
        if n.tracking_id:
            ctx.setdefault("tracking_id", n.tracking_id)
        ctx["link"] = self.link(n)
        if (
            n.tracking_id
            and n.recipient_kind == RecipientKind.reporter.value
            and to.channel is NotifyChannel.email
            and to.takes_replies
            and n.template != CONFIRMATION  # it carries the receipt: a reply would quote it into the case
        ):
            ctx["reply_to"] = self.settings.reply_to(n.tracking_id)
        status = ctx.get("status")
        if status is not None:
            ctx["status_label"] = STATUS_LABELS[Status(status)]
        ctx["recipient_kind"] = n.recipient_kind
        ctx["recipient_name"] = to.name
        ctx["language"] = to.language
        ctx["timezone"] = to.timezone
        return ctx

    def _no_contact(self, runtime: Runtime[Any], n: Notification, now: datetime) -> Outcome:
        waited = (now - n.created_at).total_seconds()
        if waited >= self.settings.contact_wait_seconds:
            return self._skip(runtime, n, "no_contact", now)
        retry_at = now + timedelta(seconds=self.settings.contact_retry_seconds)

        async def write(session: AsyncSession) -> None:
            await service.await_contact(session, n, retry_at=retry_at, now=now)

        def report() -> None:
            NOTIFICATIONS.labels(runtime.service, n.template, "awaiting_contact").inc()
            log.info("notification_awaits_contact", notification_id=n.id, waited_s=round(waited, 1))

        return Outcome(n, write, report)

    def _defer(self, runtime: Runtime[Any], n: Notification, to: Address, until: datetime, now: datetime) -> Outcome:
        async def write(session: AsyncSession) -> None:
            await service.defer(session, n, until=until, reason="quiet_hours", channel=to.channel.value, now=now)

        def report() -> None:
            NOTIFICATIONS.labels(runtime.service, n.template, "deferred").inc()
            log.info("notification_deferred", notification_id=n.id, until=until.isoformat(), timezone=to.timezone)

        return Outcome(n, write, report)

    def _skip(self, runtime: Runtime[Any], n: Notification, reason: str, now: datetime) -> Outcome:
        async def write(session: AsyncSession) -> None:
            await service.skip(session, n, reason=reason, now=now)

        def report() -> None:
            NOTIFICATIONS.labels(runtime.service, n.template, "skipped").inc()
            log.info("notification_skipped", notification_id=n.id, template=n.template, reason=reason)

        return Outcome(n, write, report)

    def _failed(
        self, runtime: Runtime[Any], n: Notification, to: Address, exc: Exception, secrets: list[str]
    ) -> Outcome:
        error = redact(f"{type(exc).__name__}: {exc}", secrets)
        now = runtime.clock.now()
        attempt = service.FailedAttempt(
            error,
            permanent=isinstance(exc, PermanentFailure),
            message_id=message_id_for(n.id, self.settings.mail_from) if to.channel is NotifyChannel.email else None,
            channel=to.channel.value,
        )
        outcome = NotificationStatus.pending.value

        async def write(session: AsyncSession) -> None:
            nonlocal outcome
            outcome = await service.mark_attempt_failed(session, n, attempt, self.retries, now)

        def report() -> None:
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

        return Outcome(n, write, report)
