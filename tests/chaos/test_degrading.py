"""Degrading gracefully: a dependency down is said on /readyz and answered with 503 and JSON, never a 500; intake keeps
accepting without NATS and drains afterwards; SIGTERM lets a service finish what it holds and exit 0."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

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
from shared.bus import STREAM
from shared.settings import ServiceSettings
from tests.chaos.postgres import PrivatePostgres, unavailable_reason
from tests.support.apps import (
    ADMIN_KEY,
    auth,
    eventually,
    keys_for,
    publish,
    running_service,
    service_settings,
    stream_events,
    test_bus,
)
from tests.support.databases import TestDatabase

pytestmark = pytest.mark.timeout(180)

SUBMISSION = {
    "title": "Jalan berlubang di depan sekolah",
    "content": "Sudah tiga bulan tidak diperbaiki.",
    "classification": "pengaduan",
    "reporter": {"email": "warga@example.test"},
}


@pytest.fixture
def own_postgres() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL for this test alone, which it stops and starts."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"no private PostgreSQL can be made here: {reason}")
    server = PrivatePostgres.create()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


async def _metric(client: httpx.AsyncClient, name: str, **labels: str) -> float | None:
    from prometheus_client.parser import text_string_to_metric_families

    text_ = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text_):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return None


# The database down ------------------------------------------------------------------------------------------------


async def test_while_the_database_is_down_readyz_says_so_and_requests_get_503_json(
    own_postgres: PrivatePostgres, natsd: NatsServer, tmp_path: Path
) -> None:
    apps = (
        ("intake_svc", IntakeSettings, create_intake),
        ("routing_svc", RoutingSettings, create_routing),
        ("agency_svc", AgencySettings, create_agency),
        ("notify_svc", NotifySettings, create_notify),
    )
    admin = auth(ADMIN_KEY)
    probes: dict[str, tuple[str, str, dict[str, Any]]] = {
        "intake": ("POST", "/api/v1/complaints", {"json": SUBMISSION}),
        "routing": ("GET", "/api/v1/hub/agencies", {"headers": admin}),
        "agency": ("GET", "/api/v1/agency/complaints", {"headers": auth("sk_agency_" + uuid.uuid4().hex)}),
        "notify": ("GET", "/api/v1/notify/deliveries", {"headers": admin}),
    }
    async with AsyncExitStack() as stack:
        clients: dict[str, httpx.AsyncClient] = {}
        for package, settings_cls, create_app in apps:
            database = TestDatabase(url=own_postgres.url(), schema=f"deg_{package.split('_')[0]}")
            settings = service_settings(settings_cls, database, natsd, tmp_path)
            _, client = await stack.enter_async_context(running_service(package, create_app, settings))
            clients[settings.service_name] = client

        async def answers() -> dict[str, tuple[int, dict[str, Any]]]:
            found = {}
            for name, (method, path, kwargs) in probes.items():
                r = await clients[name].request(method, path, **kwargs)
                found[name] = (r.status_code, r.json())
            return found

        before = await answers()
        assert {n: code for n, (code, _) in before.items()} == {
            "intake": 201,
            "routing": 200,
            "agency": 401,
            "notify": 200,
        }, before

        await asyncio.to_thread(own_postgres.stop)
        for name, client in clients.items():
            r = await client.get("/readyz")
            assert r.status_code == 503, (name, r.text)
            checks = r.json()["checks"]
            assert checks["database"].startswith("down"), (name, checks)
            assert checks["nats"] == "ok", (name, checks)
        down = await answers()
        for name, (code, body) in down.items():
            assert code == 503, (name, code, body)
            assert body["error"]["code"] == "service_unavailable", (name, body)

        await asyncio.to_thread(own_postgres.start)
        for name, client in clients.items():
            await eventually(functools.partial(_ready, client), timeout=30)
        after = await answers()
        assert {n: code for n, (code, _) in after.items()} == {n: code for n, (code, _) in before.items()}, after


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


# NATS down ------------------------------------------------------------------------------------------------------


async def test_intake_accepts_while_nats_is_down_then_drains_its_outbox(
    database: TestDatabase, natsd: NatsServer, tmp_path: Path
) -> None:
    settings = service_settings(IntakeSettings, database, natsd, tmp_path)
    async with running_service("intake_svc", create_intake, settings) as (_, client):
        await asyncio.to_thread(natsd.stop)
        unready = await eventually(lambda: _unready(client))
        assert unready["checks"] == {"database": "ok", "nats": "down"}

        tids = []
        for i in range(10):
            r = await client.post("/api/v1/complaints", json={**SUBMISSION, "title": f"Tanpa NATS {i}"})
            assert r.status_code == 201, r.text
            tids.append(r.json()["tracking_id"])
        # complaint.submitted and contact.registered for each, held in the outbox meanwhile
        held = await eventually(lambda: _backlog_at_least(client, 2 * len(tids)))
        assert held == 2 * len(tids)

        await asyncio.to_thread(natsd.start)
        await eventually(lambda: _ready(client), timeout=30)
        await eventually(lambda: _backlog_is(client, 0), timeout=30)
        async with test_bus(natsd) as bus:
            events = await stream_events(bus, "simpul.complaint.submitted")
    published = [e["correlation_id"] for e in events]
    assert sorted(published) == sorted(tids), "each held event was published once, after NATS came back"


async def _unready(client: httpx.AsyncClient) -> dict[str, Any] | None:
    r = await client.get("/readyz")
    return r.json() if r.status_code == 503 else None


async def _backlog_at_least(client: httpx.AsyncClient, n: int) -> float | None:
    value = await _metric(client, "simpul_outbox_backlog", service="intake")
    return value if value is not None and value >= n else None


async def _backlog_is(client: httpx.AsyncClient, n: int) -> bool:
    return await _metric(client, "simpul_outbox_backlog", service="intake") == n


# SIGTERM ----------------------------------------------------------------------------------------------------------


def _process_env(settings_cls: type[ServiceSettings], database: TestDatabase, nats_url: str, data_dir: Path) -> dict:
    prefix = settings_cls.model_config.get("env_prefix", "SIMPUL_")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    env |= {
        f"{prefix}DATABASE_URL": database.url,
        f"{prefix}NATS_URL": nats_url,
        f"{prefix}DATA_DIR": str(data_dir),
        f"{prefix}PORT": str(free_port()),
        f"{prefix}LOG_JSON": "false",
        "SIMPUL_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
    }
    if database.schema:
        env[f"{prefix}DATABASE_SCHEMA"] = database.schema
    for field, key in keys_for(settings_cls).items():
        env[f"{prefix}{field.upper()}"] = key
    return env


@asynccontextmanager
async def service_process(
    package: str, settings_cls: type[ServiceSettings], database: TestDatabase, natsd: NatsServer, tmp_path: Path
) -> AsyncIterator[tuple[subprocess.Popen[bytes], str]]:
    """`python -m <package>` as its own process (migrated first); its base URL."""
    env = _process_env(settings_cls, database, natsd.url, tmp_path / package)
    argv = [sys.executable, "-m", package]
    migrated = await asyncio.to_thread(subprocess.run, [*argv, "migrate"], env=env, capture_output=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr.decode()[-2000:]
    log = (tmp_path / f"{package}.log").open("wb")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env[settings_cls.model_config.get('env_prefix', '') + 'PORT']}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2) as client:
            await eventually(lambda: _ready_process(client, proc), timeout=60)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        log.close()


async def _ready_process(client: httpx.AsyncClient, proc: subprocess.Popen[bytes]) -> bool:
    assert proc.poll() is None, f"exited with {proc.returncode}"
    try:
        return (await client.get("/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


@asynccontextmanager
async def writes_blocked(database: TestDatabase, table: str) -> AsyncIterator[None]:
    """Hold a lock that makes the service's next write to `table` wait until the block ends."""
    if database.schema is None:
        import sqlite3

        path = database.url.split("///", 1)[1]
        lock = sqlite3.connect(path, isolation_level=None, timeout=30)
        lock.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        return
    engine = create_async_engine(database.url)
    try:
        async with engine.connect() as conn:
            trans = await conn.begin()
            await conn.execute(text(f'LOCK TABLE "{database.schema}"."{table}" IN EXCLUSIVE MODE'))
            try:
                yield
            finally:
                await trans.rollback()
    finally:
        await engine.dispose()


async def _refused(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            await client.get(f"{url}/healthz")
    except httpx.ConnectError:
        return True
    except httpx.HTTPError:
        return False
    return False


async def test_sigterm_intake_answers_what_it_holds_publishes_it_and_exits_0(
    database: TestDatabase, natsd: NatsServer, tmp_path: Path
) -> None:
    held = 12
    async with service_process("intake_svc", IntakeSettings, database, natsd, tmp_path) as (proc, url):
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
            async with writes_blocked(database, "complaints"):
                requests = [
                    asyncio.create_task(client.post("/api/v1/complaints", json={**SUBMISSION, "title": f"T{i}"}))
                    for i in range(held)
                ]
                await asyncio.sleep(1.0)  # let them reach intake; their commit waits for the lock
                assert not any(r.done() for r in requests), "a submission was answered while writes were blocked"
                proc.send_signal(signal.SIGTERM)
                await eventually(lambda: _refused(url), timeout=10)  # it takes no new work
            answers = await asyncio.gather(*requests)
        code = await asyncio.to_thread(proc.wait, 30)
    assert [r.status_code for r in answers] == [201] * held, [r.text for r in answers if r.status_code != 201]
    assert code == 0
    async with test_bus(natsd) as bus:
        events = await stream_events(bus, "simpul.complaint.submitted")
    assert sorted(e["correlation_id"] for e in events) == sorted(r.json()["tracking_id"] for r in answers), (
        "what it accepted while stopping was published before it exited"
    )


async def test_sigterm_routing_finishes_the_event_it_holds_and_exits_0(
    database: TestDatabase, natsd: NatsServer, tmp_path: Path
) -> None:
    from tests.routing_svc.conftest import new_tid, submitted

    tid = new_tid()
    async with service_process("routing_svc", RoutingSettings, database, natsd, tmp_path) as (proc, _):
        async with writes_blocked(database, "processed_events"), test_bus(natsd) as bus:
            await publish(bus, submitted(tid))
            await eventually(lambda: _ack_pending(bus), timeout=10)  # taken, and its commit waits for the lock
            proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)  # the signal is handled while the event still waits for the lock
            assert proc.poll() is None, "routing quit while it held an event"
        code = await asyncio.to_thread(proc.wait, 30)
        async with test_bus(natsd) as bus:
            info = await bus.js.consumer_info(STREAM, "routing-cases")
            changed = await stream_events(bus, "simpul.complaint.status_changed")
            clocks = await stream_events(bus, "simpul.sla.clocks_changed")
    assert code == 0
    assert (info.num_ack_pending, info.num_pending, info.num_redelivered) == (0, 0, 0), (
        f"it finished and acknowledged what it held: {info}"
    )
    assert tid in {e["correlation_id"] for e in changed + clocks}, "and published what it wrote before it exited"


async def _ack_pending(bus: Any) -> int:
    try:
        info = await bus.js.consumer_info(STREAM, "routing-cases")
    except Exception:
        return 0
    return int(info.num_ack_pending)
