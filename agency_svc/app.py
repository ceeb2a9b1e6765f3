"""agency_svc's app: the agency API and the consumers that keep the inbox, directory and key replicas."""

from __future__ import annotations

from fastapi import FastAPI

from agency_svc.attachments.endpoints import router as attachments_router
from agency_svc.attachments.handlers import handlers as attachment_handlers
from agency_svc.clocks.handlers import handlers as clock_handlers
from agency_svc.context import AgencyContext
from agency_svc.directory.handlers import handlers as directory_handlers
from agency_svc.inbox.endpoints import router as inbox_router
from agency_svc.inbox.handlers import handlers as inbox_handlers
from agency_svc.inbox.projection import RETRY_DELAY_S
from agency_svc.models import ATTACHMENTS, IDEMPOTENCY, KIT
from agency_svc.settings import AgencySettings
from agency_svc.webhooks import service as webhooks
from agency_svc.webhooks.endpoints import router as webhooks_router
from agency_svc.webhooks.fanout import Fanout
from agency_svc.webhooks.worker import Pusher
from shared.auth.replica import key_replica_handlers
from shared.bus.consumer import Subscription
from shared.bus.handlers import Handlers
from shared.clock import Clock, load_clock
from shared.db.expiry import purge_expired_worker
from shared.events.topology import AGENCY_DIRECTORY, AGENCY_INBOX, Service
from shared.files.sweep import orphan_sweep_worker
from shared.files.uploads import Uploads
from shared.http.app import build_app
from shared.http.ratelimit import TokenBucket
from shared.identity import name_seal
from shared.runtime import Runtime

DESCRIPTION = """\
The agency side of the hub. Each agency node's system calls this API with the node's key and sees the cases
dispositioned to its node or any node under it (a Kanwil sees its UPTs' cases). It acknowledges a case, posts
follow-ups (tindak lanjut; the final one answers the case), asks for a forward (bukan wewenang) or delegates
to a node under the case's holder. A case outside the key's subtree answers 404. The hub owns each case's
status; this API reflects it as the hub reports it.

A node may also register webhooks: new dispositions, status changes and reporter messages of the cases it sees
are POSTed to its endpoints, signed with HMAC-SHA256 (`Simpul-Signature`), retried with backoff for 24 hours,
in order per case, with a delivery log and redelivery by hand. The inbox stays readable by pull all the while.
An endpoint may not point into an internal network (loopback, private, link-local, ...): a literal address there
answers 422 `webhook_destination_blocked`, and a name that resolves there is refused at each delivery.
"""


REDELIVERY_KEYS = 100_000
"""Endpoints whose redeliveries are counted at once; the one asked about longest ago is forgotten first."""


sweep_orphan_files = orphan_sweep_worker(ATTACHMENTS)


def create_app(settings: AgencySettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or AgencySettings()
    clock = clock or load_clock(settings.clock)
    names = name_seal(settings.encryption_key_list(), settings.identity_key_list())
    config = webhooks.WebhookConfig.of(settings, names.at_rest)
    directory = Handlers.joined(directory_handlers, key_replica_handlers(KIT.api_keys, RETRY_DELAY_S))
    runtime = Runtime(
        settings,
        KIT,
        context=lambda runtime: AgencyContext(
            settings=settings,
            clock=runtime.clock,
            outbox=runtime.outbox,
            names=names,
            webhooks=config,
            fanout=Fanout(runtime.clock, config.max_age),
            redeliveries=TokenBucket(
                runtime.clock,
                per_minute=settings.webhook_redeliveries_per_minute,
                burst=settings.webhook_redeliveries_per_minute,
                max_keys=REDELIVERY_KEYS,
            ),
            uploads=Uploads(settings, runtime.bus, Service.agency, ATTACHMENTS, runtime.outbox),
        ),
        subscriptions=[
            Subscription(AGENCY_INBOX, Handlers.joined(inbox_handlers, clock_handlers, attachment_handlers)),
            Subscription(AGENCY_DIRECTORY, directory),
        ],
        workers=[
            Pusher(settings, names.at_rest).run,
            purge_expired_worker(IDEMPOTENCY, what="idempotency_keys"),
            sweep_orphan_files,
        ],
        clock=clock,
    )
    return build_app(
        runtime,
        title="Simpul agency",
        description=DESCRIPTION,
        routers=[inbox_router, attachments_router, webhooks_router],
    )
