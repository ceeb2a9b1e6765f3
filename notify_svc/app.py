"""notify_svc's app: the delivery log and recipients API, the consumers that make notifications, the sender worker
and the daily digest."""

from __future__ import annotations

from fastapi import FastAPI

from notify_svc.consumers import contacts_subscription, keys_subscription, messages_subscription
from notify_svc.digest.job import DigestJob
from notify_svc.models import KIT
from notify_svc.notifications.endpoints import router as deliveries_router
from notify_svc.recipients.endpoints import router as recipients_router
from notify_svc.sending.mail import Transport
from notify_svc.sending.sms import SmsTransport
from notify_svc.sending.worker import Sender
from notify_svc.settings import NotifySettings
from shared.calendar import WorkingCalendar
from shared.clock import Clock, load_clock
from shared.crypto import Sealer
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
    sender = Sender(settings, sealer, transport=transport, sms=sms)
    digests = DigestJob(settings, WorkingCalendar())
    runtime = Runtime(
        settings,
        KIT,
        subscriptions=[
            contacts_subscription(sealer, Sealer(settings.contact_key_list()), clock),
            messages_subscription(clock),
            keys_subscription(),
        ],
        workers=[sender.run, digests.run],
        clock=clock,
        extras={"sender": sender, "digests": digests},
    )
    return build_app(
        runtime, title="Simpul notify", description=DESCRIPTION, routers=[deliveries_router, recipients_router]
    )
