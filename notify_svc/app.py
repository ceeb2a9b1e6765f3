"""notify_svc's app: the delivery log API, the consumers that make notifications, and the sender worker."""

from __future__ import annotations

from fastapi import FastAPI

from notify_svc.consumers import contacts_subscription, keys_subscription, messages_subscription
from notify_svc.models import KIT
from notify_svc.notifications.endpoints import router as deliveries_router
from notify_svc.sending.mail import Transport
from notify_svc.sending.worker import Sender
from notify_svc.settings import NotifySettings
from shared.clock import Clock, load_clock
from shared.crypto import Sealer
from shared.http.app import build_app
from shared.runtime import Runtime

DESCRIPTION = """\
Messages to reporters. Every status change of a case and every follow-up an agency posts becomes an email to
the reporter, when they left an address: in Indonesian, or in English when they chose it. Without an SMTP
server configured, each message is written as an `.eml` file under the mail folder. Deliveries are retried
with backoff; the delivery log (for coordinators and admins) shows each one's attempts and outcome, never the
reporter's contact details.
"""


def create_app(
    settings: NotifySettings | None = None, *, clock: Clock | None = None, transport: Transport | None = None
) -> FastAPI:
    settings = settings or NotifySettings()
    clock = clock or load_clock(settings.clock)
    sealer = Sealer(settings.encryption_key_list())
    sender = Sender(settings, sealer, transport=transport)
    runtime = Runtime(
        settings,
        KIT,
        subscriptions=[
            contacts_subscription(sealer, clock),
            messages_subscription(clock),
            keys_subscription(),
        ],
        workers=[sender.run],
        clock=clock,
        extras={"sender": sender},
    )
    return build_app(runtime, title="Simpul notify", description=DESCRIPTION, routers=[deliveries_router])
