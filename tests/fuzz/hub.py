"""The four services for the fuzz run: each under uvicorn on its own loopback port, on one real nats-server from the
wheel and each on its own real database, in one background thread with its own event loop.

The fuzzer talks to them over real HTTP, as a client would: the same server stack (uvicorn, httptools) parses every
hostile path, header and body, and events flow between the services as in `simpul up` (keys issued at the hub reach
agency_svc and notify_svc, submissions reach the hub and the agencies' inboxes).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from agency_svc.app import create_app as create_agency
from agency_svc.settings import AgencySettings
from intake_svc.app import create_app as create_intake
from intake_svc.settings import IntakeSettings
from notify_svc.app import create_app as create_notify
from notify_svc.settings import NotifySettings
from routing_svc.app import create_app as create_routing
from routing_svc.settings import RoutingSettings
from services.natsd import NatsServer
from services.ports import free_port
from shared.db.migrations import upgrade_async
from shared.settings import ServiceSettings
from tests.fuzz.sms import SMS_SECRET
from tests.support.apps import create_buckets, service_settings
from tests.support.databases import TestDatabase, fresh_database

START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
"""How long the tests wait for any answer: one that takes longer is a hang, and fails the test."""


@dataclass(frozen=True)
class ServiceUnderTest:
    name: str
    package: str
    settings_cls: type[ServiceSettings]
    create_app: Callable[[Any], FastAPI]


SERVICES: tuple[ServiceUnderTest, ...] = (
    ServiceUnderTest("intake", "intake_svc", IntakeSettings, create_intake),
    ServiceUnderTest("routing", "routing_svc", RoutingSettings, create_routing),
    ServiceUnderTest("agency", "agency_svc", AgencySettings, create_agency),
    ServiceUnderTest("notify", "notify_svc", NotifySettings, create_notify),
)


@dataclass
class FuzzHub:
    backend: str
    urls: dict[str, str] = field(default_factory=dict)
    """Service name -> its base URL (http://127.0.0.1:<port>)."""


class _ServerThread(threading.Thread):
    """Migrates and serves the four services on one event loop until `stop()`."""

    def __init__(self, hub: FuzzHub, natsd: NatsServer, tmp: Path):
        super().__init__(name="fuzz-hub", daemon=True)
        self.hub = hub
        self.natsd = natsd
        self.tmp = tmp
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self.error = exc
            self.ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        await create_buckets(self.natsd)
        async with contextlib.AsyncExitStack() as stack:
            servers: list[uvicorn.Server] = []
            for svc in SERVICES:
                db: TestDatabase = await stack.enter_async_context(
                    fresh_database(self.hub.backend, self.tmp, name=f"fuzz_{svc.name}")
                )
                # NORMAL: no fsync per commit. What is fuzzed is the handling of input, not durability. The fuzzer
                # presents a wrong key again and again from one address: the failed-key lockout would end the run.
                # It is the machine itself, not a proxy's client: no trusted proxy, so loopback stays exempt.
                settings = service_settings(
                    svc.settings_cls,
                    db,
                    self.natsd,
                    self.tmp,
                    sqlite_synchronous="NORMAL",
                    auth_failures_per_client=0,
                    trusted_proxies="",
                    **({"sms_signing_secret": SMS_SECRET} if svc.name == "intake" else {}),
                )
                await upgrade_async(svc.package, settings.resolved_database_url(), settings.database_schema)
                port = free_port()
                config = uvicorn.Config(
                    svc.create_app(settings),
                    host="127.0.0.1",
                    port=port,
                    http="httptools",
                    log_config=None,
                    access_log=False,
                    timeout_graceful_shutdown=5,
                )
                servers.append(uvicorn.Server(config))
                self.hub.urls[svc.name] = f"http://127.0.0.1:{port}"
            serving = [asyncio.create_task(s.serve()) for s in servers]
            while not all(s.started for s in servers):
                if any(t.done() for t in serving):
                    await asyncio.gather(*serving)
                    raise RuntimeError("a service stopped while starting")
                await asyncio.sleep(0.05)
            self.ready.set()
            await self._stopping.wait()
            for s in servers:
                s.should_exit = True
            await asyncio.gather(*serving, return_exceptions=True)

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stopping.set)
        self.join(60)


@contextlib.contextmanager
def running_fuzz_hub(backend: str, tmp: Path) -> Iterator[FuzzHub]:
    """Start nats-server and the four services; yield when every service answers /readyz with 200."""
    natsd = NatsServer(data_dir=tmp / "nats")
    natsd.start()
    hub = FuzzHub(backend=backend)
    thread = _ServerThread(hub, natsd, tmp)
    try:
        thread.start()
        if not thread.ready.wait(START_TIMEOUT_S):
            raise TimeoutError(f"the services did not start within {START_TIMEOUT_S}s")
        if thread.error is not None:
            raise RuntimeError("the services could not start") from thread.error
        for url in hub.urls.values():
            _wait_ready(url)
        yield hub
    finally:
        thread.stop()
        natsd.stop()


def _wait_ready(base_url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(base_url=base_url, timeout=5) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if client.get("/readyz").status_code == 200:
                    return
            time.sleep(0.05)
    raise TimeoutError(f"{base_url} was not ready within {START_TIMEOUT_S}s")
