"""Real webhook receivers on loopback ports, verifying with the snippet from docs/webhooks.md, and a tuned agency."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agency_svc.app import create_app
from agency_svc.settings import AgencySettings
from services.ports import free_port
from shared.clock import Clock
from tests.agency_svc.conftest import Agency
from tests.support.apps import eventually, running_service, service_settings, test_bus
from tests.support.databases import TestDatabase

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"

FAST_RETRIES: dict[str, Any] = {
    "webhook_retry_base_seconds": 0.05,
    "webhook_retry_max_seconds": 0.2,
    "webhook_poll_interval": 0.05,
}
"""Retries within a fraction of a second, so a test can watch a receiver fail and recover in real time."""

LOOPBACK_ALLOWED: dict[str, Any] = {"webhook_allowed_networks": "127.0.0.0/8, ::1"}
"""The receivers listen on loopback, which the destination guard refuses unless it is allowed."""


def doc_snippet() -> str:
    """The Python block of docs/webhooks.md that defines `verify`."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    found = [b for b in blocks if "def verify(" in b]
    assert len(found) == 1, "docs/webhooks.md must hold exactly one Python block defining verify()"
    return found[0]


def doc_verify() -> Callable[..., bool]:
    namespace: dict[str, Any] = {}
    exec(compile(doc_snippet(), str(DOC), "exec"), namespace)
    verify: Callable[..., bool] = namespace["verify"]
    return verify


VERIFY = doc_verify()


@dataclass
class Received:
    headers: dict[str, str]
    raw: bytes
    verified: bool
    answered: int

    @property
    def body(self) -> dict[str, Any]:
        return dict(json.loads(self.raw))


@dataclass
class Receiver:
    """An agency system's endpoint: verifies each delivery, and answers what `answer` says (401 if unverified)."""

    url: str
    secret: str
    answer: Callable[[dict[str, Any]], int] = lambda _: 200
    received: list[Received] = field(default_factory=list)
    arrived: int = 0
    """Requests that came in, answered or not yet."""
    hold: asyncio.Event | None = None
    """When set, each request waits for it before it is answered."""

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.answered < 300]

    async def handle(self, request: Request) -> Response:
        self.arrived += 1
        raw = await request.body()
        if self.hold is not None:
            await self.hold.wait()
        verified = VERIFY(self.secret, raw, request.headers.get("simpul-signature", ""))
        status = self.answer(json.loads(raw)) if verified else 401
        self.received.append(Received(dict(request.headers), raw, verified, status))
        return Response(status_code=status)

    def answers_in_turn(self, *statuses: int) -> None:
        """Answer these statuses to the first requests, then 200."""
        queue = list(statuses)
        self.answer = lambda _: queue.pop(0) if queue else 200


@asynccontextmanager
async def receiver(secret: str, port: int | None = None) -> AsyncIterator[Receiver]:
    """A Receiver served by uvicorn on a loopback port (a given one, or a free one)."""
    port = port or free_port()
    peer = Receiver(url=f"http://127.0.0.1:{port}/hooks/simpul", secret=secret)
    app = Starlette(routes=[Route("/hooks/simpul", peer.handle, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    try:
        await eventually(started)
        yield peer
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def webhook_agency(
    database: TestDatabase,
    natsd: Any,
    tmp_path: Path,
    *,
    clock: Clock | None = None,
    keys: dict[str, str] | None = None,
    **overrides: Any,
) -> AsyncIterator[Agency]:
    """agency_svc with the given webhook settings (FAST_RETRIES and LOOPBACK_ALLOWED unless overridden) and its tree
    seeded, or, given the `keys` of an earlier run on the same database, with that run's tree and keys."""
    values = {**FAST_RETRIES, **LOOPBACK_ALLOWED, **overrides}
    settings = service_settings(AgencySettings, database, natsd, tmp_path, **values)
    async with (
        running_service("agency_svc", create_app, settings, clock=clock) as (app, client),
        test_bus(natsd) as bus,
    ):
        agency = Agency(app=app, client=client, bus=bus, keys=dict(keys or {}))
        if keys is None:
            await agency.seed_tree()
        yield agency


async def register(agency: Agency, who: str, url: str, *event_types: str, secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url, "event_types": list(event_types)}
    if secret is not None:
        body["secret"] = secret
    r = await agency.client.post("/api/v1/agency/webhooks", json=body, headers=agency.h(who))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def deliveries(agency: Agency, who: str, webhook_id: str, **params: Any) -> list[dict[str, Any]]:
    r = await agency.client.get(
        f"/api/v1/agency/webhooks/{webhook_id}/deliveries", params=params, headers=agency.h(who)
    )
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def wait_delivery(agency: Agency, who: str, webhook_id: str, **expected: Any) -> dict[str, Any]:
    """The endpoint's only delivery once it shows `expected` (status, attempts, ...)."""

    async def probe() -> dict[str, Any] | None:
        items = await deliveries(agency, who, webhook_id)
        assert len(items) <= 1, items
        if items and all(items[0].get(k) == v for k, v in expected.items()):
            return items[0]
        return None

    return await eventually(probe)
