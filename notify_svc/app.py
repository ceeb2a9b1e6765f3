"""notify_svc's app: the delivery log and recipients API, the consumers that make notifications, the sender worker
and the daily digest."""

from __future__ import annotations

from fastapi import FastAPI

from notify_svc.cases.handlers import handlers as case_handlers
from notify_svc.contacts.handlers import handlers as contact_handlers
from notify_svc.context import NotifyContext
from notify_svc.digest.job import DigestJob
from notify_svc.models import IDEMPOTENCY, KIT
from notify_svc.notifications.endpoints import router as deliveries_router
from notify_svc.notifications.handlers import handlers as notification_handlers
from notify_svc.recipients.endpoints import router as recipients_router
from notify_svc.recipients.handlers import handlers as recipient_handlers
from notify_svc.sending.mail import Transport
from notify_svc.sending.sms import SmsTransport
from notify_svc.sending.worker import Sender
from notify_svc.settings import NotifySettings
from shared.auth.replica import key_replica_handlers
from shared.bus.consumer import Subscription
from shared.bus.handlers import Handlers
from shared.calendar import WorkingCalendar
from shared.clock import Clock, load_clock
from shared.crypto import Sealer
from shared.db.expiry import purge_expired_worker
from shared.events.topology import NOTIFY_CONTACTS, NOTIFY_KEYS, NOTIFY_MESSAGES
from shared.http.app import build_app
from shared.runtime import Runtime

DESCRIPTION = """\
Messages to reporters, liaison officers and coordinators.

A reporter who left an email gets email; one who left only a phone number gets SMS (through the configured HTTP
gateway). They are sent the confirmation of their submission (the only message that carries the receipt), every
status change (a postponement asks them for more information), every follow-up, and a reminder before the
reporter-response clock runs out; in Indonesian, or in English when they chose it. Liaison officers and coordinators
registered under `/api/v1/notify/recipients` get escalation notices and each node's daily digest of overdue and
due-soon cases. Quiet hours (when configured) hold back messages to people until they end, in each recipient's
timezone. Without an SMTP server or an SMS gateway configured, messages are written as files under the data folder.
Deliveries are retried with backoff; the delivery log (for coordinators and admins) shows each one's attempts and
outcome, never anybody's contact details.
"""


def create_app(
    settings: NotifySettings | None = None,
    *,
    clock: Clock | None = None,
    transport: Transport | None = None,
    sms: SmsTransport | None = None,
) -> FastAPI:
    settings = settings or NotifySettings()
    clock = clock or load_clock(settings.clock)
    sealer = Sealer(settings.encryption_key_list())
    context = NotifyContext(
        settings=settings,
        clock=clock,
        sealer=sealer,
        contact_ring=Sealer(settings.contact_key_list()),
        sender=Sender(settings, sealer, transport=transport, sms=sms),
        digests=DigestJob(settings, WorkingCalendar()),
    )
    # One durable for every event that makes a message or feeds the case projection or the liaison officers (the
    # broker grants notify no other on this stream): JetStream keeps them in order, so a status is known before the
    # reminder that follows it, and a node's officers before its escalations.
    messages = Handlers.joined(case_handlers, recipient_handlers, notification_handlers)
    runtime = Runtime(
        settings,
        KIT,
        context=lambda _: context,
        subscriptions=[
            Subscription(NOTIFY_CONTACTS, contact_handlers),
            Subscription(NOTIFY_MESSAGES, messages),
            Subscription(NOTIFY_KEYS, key_replica_handlers(KIT.api_keys)),
        ],
        workers=[context.sender.run, context.digests.run, purge_expired_worker(IDEMPOTENCY, what="idempotency_keys")],
        clock=clock,
    )
    return build_app(
        runtime, title="Simpul notify", description=DESCRIPTION, routers=[deliveries_router, recipients_router]
    )
