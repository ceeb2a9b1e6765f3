"""intake_svc's app: the reporter's API, the submission writer (group commit), the reporter-view consumer and the
category replica."""

from __future__ import annotations

from fastapi import FastAPI

from intake_svc.attachments.endpoints import router as attachments_router
from intake_svc.attachments.handlers import handlers as attachment_view
from intake_svc.categories.handlers import handlers as category_replica
from intake_svc.categories.known import KnownCategories
from intake_svc.channels.sms.endpoints import router as sms_router
from intake_svc.complaints.endpoints import router as complaints_router
from intake_svc.complaints.handlers import handlers as reporter_view
from intake_svc.complaints.limits import PublicLimits
from intake_svc.complaints.writer import write_batch
from intake_svc.context import IntakeContext
from intake_svc.models import ATTACHMENTS, IDEMPOTENCY, KIT, Base, IdempotencyKey, SmsCount
from intake_svc.privacy import intake_sealers
from intake_svc.settings import IntakeSettings
from shared.auth.replica import key_replica_handlers
from shared.bus.consumer import Subscription
from shared.bus.handlers import Handlers
from shared.clock import Clock
from shared.db.batch_writer import BatchWriter
from shared.db.expiry import purge_expired_worker
from shared.events.topology import INTAKE_KEYS, INTAKE_REFERENCE, INTAKE_REPORTER_VIEW, Service
from shared.files.sweep import orphan_sweep_worker
from shared.files.uploads import Uploads
from shared.http.app import build_app
from shared.logging import get_logger
from shared.runtime import Runtime

log = get_logger(__name__)


DESCRIPTION = """\
Submissions from every channel ("no wrong door"). A submission answers with a tracking id and, once only,
a receipt: the reporter's secret for reading the case (`X-Receipt`), adding information, disputing an answer
and rating it. Contact details are sealed at rest and never leave the service on a shared event.
"""


async def submission_writer(runtime: Runtime[IntakeContext]) -> None:
    """Runs the group-commit writer for the service's lifetime; on stop, commits what is queued."""
    writer = runtime.context.writer
    writer.start()
    try:
        await runtime.stopping.wait()
    finally:
        await writer.stop()


IDEMPOTENCY_KEYS = Base.metadata.tables[IdempotencyKey.__tablename__]
purge_idempotency_keys = purge_expired_worker(IDEMPOTENCY_KEYS, what="submission_idempotency_keys")
purge_idempotent_requests = purge_expired_worker(IDEMPOTENCY, what="idempotency_keys")
purge_sms_counts = purge_expired_worker(Base.metadata.tables[SmsCount.__tablename__], what="sms_counts")
sweep_orphan_files = orphan_sweep_worker(ATTACHMENTS)


def create_app(settings: IntakeSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or IntakeSettings()

    def context(runtime: Runtime[IntakeContext]) -> IntakeContext:
        writer = BatchWriter(runtime.db.engine, write_batch, max_batch=settings.batch_max, on_commit=runtime.relay.wake)
        limits = PublicLimits(settings, runtime.clock)
        return IntakeContext(
            settings=settings,
            clock=runtime.clock,
            outbox=runtime.outbox,
            sealers=intake_sealers(settings),
            writer=writer,
            limits=limits,
            uploads=Uploads(settings, runtime.bus, Service.intake, ATTACHMENTS, runtime.outbox),
            categories=KnownCategories(runtime.db, settings.known_categories_ttl_s),
        )

    runtime = Runtime(
        settings,
        KIT,
        context=context,
        subscriptions=[
            Subscription(INTAKE_REPORTER_VIEW, Handlers.joined(reporter_view, attachment_view)),
            Subscription(INTAKE_REFERENCE, category_replica),
            # Channel clients (SMS and email gateways) call intake with their keys.
            Subscription(INTAKE_KEYS, key_replica_handlers(KIT.api_keys)),
        ],
        workers=[
            submission_writer,
            purge_idempotency_keys,
            purge_idempotent_requests,
            purge_sms_counts,
            sweep_orphan_files,
        ],
        clock=clock,
    )
    return build_app(
        runtime,
        title="Simpul intake",
        description=DESCRIPTION,
        routers=[complaints_router, attachments_router, sms_router],
    )
