"""A service's moving parts and their lifecycle: database, bus, outbox relay, consumers, background workers.

`Runtime[C]` carries the service's own context (`C`: its sealers, engines, settings, ...), made by the service from
the runtime's parts. Consumers hand it to every handler, workers and endpoints read it as `runtime.context` (in
endpoints through the service's `ContextDep`), so each one's dependencies are in its signature.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from shared.auth.keys import KeyStore
from shared.bus.consumer import ConsumerRunner, Subscription
from shared.bus.nats_bus import Bus
from shared.clock import Clock, load_clock
from shared.db.engine import Database
from shared.db.kit_tables import KitTables
from shared.http.ratelimit import FailureLockout
from shared.logging import get_logger
from shared.outbox import Outbox, OutboxRelay
from shared.settings import ServiceSettings

log = get_logger(__name__)

C = TypeVar("C")

AUTH_FAILURE_CLIENTS = 100_000
"""Clients the failed-key lockout remembers; the longest idle go first."""

Worker = Callable[["Runtime[C]"], Coroutine[Any, Any, None]]


class Runtime(Generic[C]):
    def __init__(
        self,
        settings: ServiceSettings,
        kit: KitTables,
        *,
        context: Callable[[Runtime[C]], C],
        subscriptions: Sequence[Subscription[C]] = (),
        workers: Sequence[Worker[C]] = (),
        startup: Sequence[Worker[C]] = (),
        clock: Clock | None = None,
    ):
        name = settings.service_name
        self.settings = settings
        self.service = name
        self.kit = kit
        self.clock: Clock = clock or load_clock(settings.clock)
        self.db = Database(
            settings.resolved_database_url(),
            schema=settings.database_schema,
            sqlite_synchronous=settings.sqlite_synchronous,
        )
        self.bus = Bus(
            settings.nats_url,
            name=name,
            user=settings.nats_user,
            password=settings.nats_password.get_secret_value() if settings.nats_password else None,
            replicas=settings.stream_replicas,
            max_age_days=settings.stream_max_age_days,
        )
        self.outbox = Outbox(kit.outbox, source=name)
        self.relay = OutboxRelay(
            self.db,
            self.bus,
            kit.outbox,
            service=name,
            batch=settings.relay_batch,
            poll_interval=settings.relay_poll_interval,
        )
        bootstrap = settings.bootstrap_admin_key.get_secret_value() if settings.bootstrap_admin_key else None
        self.keystore = KeyStore(
            kit.api_keys, bootstrap_admin_key=bootstrap, bootstrap_admin_key_hash=settings.bootstrap_admin_key_hash
        )
        self.trusted_proxies = settings.trusted_proxy_networks()
        self.auth_failures = FailureLockout(
            self.clock,
            max_failures=settings.auth_failures_per_client,
            window_s=float(settings.auth_failure_window_s),
            max_keys=AUTH_FAILURE_CLIENTS,
        )
        """Clients that presented too many wrong API keys (per process, as every limit here)."""
        self.context: C = context(self)
        strangers = [s.name for s in subscriptions if s.durable.service != name]
        if strangers:
            raise ValueError(f"{name} may not bind another service's durables: {strangers}")
        self.consumers = [
            ConsumerRunner(
                service=name,
                bus=self.bus,
                db=self.db,
                kit=kit,
                subscription=s,
                context=self.context,
                batch=settings.consumer_batch,
                max_deliver=settings.max_deliver,
            )
            for s in subscriptions
        ]
        self.workers = list(workers)
        self.startup = list(startup)
        """Run to their end, in order, when the service starts, before it takes requests or events."""
        self._tasks: list[asyncio.Task[None]] = []
        self._worker_tasks: list[asyncio.Task[None]] = []
        self.stopping = asyncio.Event()
        """Set when the service stops: workers finish their unit of work and return."""
        self.started = False
        event.listen(self.db.sync_session_class, "after_commit", self._after_commit)

    def _after_commit(self, _: Session) -> None:
        self.relay.wake()

    async def start(self) -> None:
        for step in self.startup:
            await step(self)
        self.bus.start()
        self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.service}-relay"))
        for c in self.consumers:
            self._tasks.append(asyncio.create_task(c.run(), name=f"{self.service}-{c.sub.name}"))
        for w in self.workers:
            self._worker_tasks.append(asyncio.create_task(w(self), name=f"{self.service}-{w.__name__}"))
        self.started = True
        log.info("service_started", database=self.db.engine.url.render_as_string(hide_password=True))

    async def stop(self) -> None:
        """Stop taking work, finish what is held, publish what is written, then close."""
        self.stopping.set()
        for c in self.consumers:
            c.stop()
        if self._worker_tasks:
            _, late = await asyncio.wait(self._worker_tasks, timeout=10)
            for t in late:
                t.cancel()
            await asyncio.gather(*self._worker_tasks, return_exceptions=True)
        consumer_tasks = self._tasks[1:]
        try:
            await asyncio.wait_for(asyncio.gather(*consumer_tasks, return_exceptions=True), 10)
        except TimeoutError:
            for t in consumer_tasks:
                t.cancel()
        self.relay.stop()
        try:
            await asyncio.wait_for(self._tasks[0], 10)
        except (TimeoutError, asyncio.CancelledError):
            self._tasks[0].cancel()
        await self.bus.close()
        await self.db.dispose()
        self.started = False
        log.info("service_stopped")
