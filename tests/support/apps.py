"""Run a service in-process against the real nats-server and a real database, and talk to it over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import nats
import orjson
from fastapi import FastAPI
from nats.js.errors import NotFoundError

from services.natsd import NatsServer
from shared.bus import STREAM, Bus
from shared.bus.nats_bus import ensure_buckets
from shared.crypto import Sealer
from shared.db.migrations import upgrade_async
from shared.events import EventData, encode_event, new_event
from shared.events.topology import route_of
from shared.settings import ServiceSettings
from tests.support.databases import TestDatabase

S = TypeVar("S", bound=ServiceSettings)

ADMIN_KEY = "sk_admin_test-bootstrap-key-0123456789abcdefghijklmnop"
TEST_ENCRYPTION_KEY = "q8yq2Y8l5k8r0lS3Yh0dP3mT7o2j1v9Xn4cB6eF8gH0="
TEST_IDENTITY_KEY = "I_zcgfTiO44C-7BICc9Gvsrr4hiFOMOd0gWj5jDR5Yo="
TEST_CONTACT_KEY = "O7KP_exPzHmAMmcFjWf8je1w86PqsbMuQV2BNTvEJ28="
TEST_FILES_KEY = "Z3k2Vd0yJXk9cXh5M1RrY0t3Wm9uR2JhR3J0eHp0b2U="
IDENTITY = Sealer([TEST_IDENTITY_KEY])
"""The identity ring every test service holds: what a test seals a name with, or opens an event's name with."""
CONTACT = Sealer([TEST_CONTACT_KEY])


def keys_for(settings_cls: type[ServiceSettings]) -> dict[str, str]:
    """The test keys for each key setting a service has: its own, and the broker rings it holds."""
    keys = {
        "encryption_keys": TEST_ENCRYPTION_KEY,
        "identity_keys": TEST_IDENTITY_KEY,
        "contact_keys": TEST_CONTACT_KEY,
        "files_keys": TEST_FILES_KEY,
    }
    return {field: key for field, key in keys.items() if field in settings_cls.model_fields}


def service_settings(
    settings_cls: type[S], database: TestDatabase, natsd: NatsServer, tmp_path: Path, **overrides: Any
) -> S:
    values: dict[str, Any] = {
        "database_url": database.url,
        "database_schema": database.schema,
        "nats_url": natsd.url,
        "data_dir": tmp_path / settings_cls.service_name,
        "bootstrap_admin_key": ADMIN_KEY,
        "relay_poll_interval": 0.05,
        "log_json": False,
    }
    values |= keys_for(settings_cls)
    values.update(overrides)
    return settings_cls(**values)


@asynccontextmanager
async def running_service(
    package: str, create_app: Callable[..., FastAPI], settings: ServiceSettings, **app_kwargs: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Migrate, start the app's lifespan (bus, relay, consumers), and yield an HTTP client bound to it."""
    await upgrade_async(package, settings.resolved_database_url(), settings.database_schema)
    app = create_app(settings, **app_kwargs)
    async with app.router.lifespan_context(app):
        await app.state.runtime.bus.wait_ready(10)
        transport = httpx.ASGITransport(app=app)
        # As the gateway forwards a client on this machine: named, so the limits' loopback exemption applies.
        named = {"X-Forwarded-For": "127.0.0.1"}
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=named) as client:
            yield app, client


@asynccontextmanager
async def test_bus(natsd: NatsServer) -> AsyncIterator[Bus]:
    bus = Bus(natsd.url, name="test-driver")
    await bus.connect()
    try:
        yield bus
    finally:
        await bus.close()


async def create_buckets(natsd: NatsServer) -> None:
    """The files' buckets, as `ops` creates them before a hub's services start: a service may only look them up.
    (The tests' open server lets the services create the streams themselves.)"""
    nc = await nats.connect(natsd.url, allow_reconnect=False)
    try:
        await ensure_buckets(nc.jetstream())
    finally:
        await nc.close()


test_bus.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test, wherever it is imported


def publisher_of(data: EventData) -> str:
    """The `source` a consumer believes for this event: the service the topology names as its publisher."""
    return route_of(type(data), data.subject()).publisher.value


async def publish(bus: Bus, data: EventData, source: str | None = None) -> int:
    """Publish an event the way its publisher's relay would; its sequence in the stream."""
    env = new_event(data, source=source or publisher_of(data))
    return await bus.publish(data.subject(), encode_event(env), headers={"Nats-Msg-Id": str(env.id)})


T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 10.0, interval: float = 0.05) -> T:
    """Poll until `probe` returns a truthy value; fail with the last value after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = await probe()
    while not last:
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")
        await asyncio.sleep(interval)
        last = await probe()
    return last


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def stream_events(bus: Bus, subject: str, stream: str = STREAM) -> list[dict[str, Any]]:
    """Every envelope `stream` holds on `subject` (a trailing '>' matches any tail), oldest first; no consumer."""
    info = await bus.js.stream_info(stream)
    prefix = subject[:-1] if subject.endswith(">") else None
    found: list[dict[str, Any]] = []
    for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
        try:
            msg = await bus.js.get_msg(stream, seq)
        except NotFoundError:
            continue
        if msg.data and (msg.subject == subject or (prefix and msg.subject and msg.subject.startswith(prefix))):
            found.append(orjson.loads(msg.data))
    return found
