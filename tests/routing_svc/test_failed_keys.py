"""Failed API keys are throttled per client (429 with Retry-After once too many) and logged without the key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from structlog.testing import capture_logs

from routing_svc.app import create_app
from routing_svc.settings import RoutingSettings
from tests.support.apps import ADMIN_KEY, auth, running_service, service_settings
from tests.support.clock import ManualClock
from tests.support.databases import TestDatabase

WRONG = "sk_admin_" + "W" * 43
LOCKED = {"error": {"code": "rate_limited", "message": "too many wrong API keys from this client; retry later"}}


@asynccontextmanager
async def routing(
    database: TestDatabase, natsd: Any, tmp_path: Path, clock: ManualClock, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    settings = service_settings(RoutingSettings, database, natsd, tmp_path, **overrides)
    async with running_service("routing_svc", create_app, settings, clock=clock) as (_, client):
        yield client


async def get(client: httpx.AsyncClient, key: str, client_address: str) -> httpx.Response:
    headers = {**auth(key), "X-Forwarded-For": client_address}
    return await client.get("/api/v1/hub/agencies", headers=headers)


async def test_too_many_wrong_keys_lock_the_client_out_for_a_window(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    clock = ManualClock()
    limits = {"auth_failures_per_client": 3, "auth_failure_window_s": 60}
    async with routing(database, natsd, tmp_path, clock, **limits) as client:
        a, b = "198.51.100.7", "198.51.100.8"
        with capture_logs() as logs:
            assert [(await get(client, WRONG, a)).status_code for _ in range(3)] == [401, 401, 401]
        failed = [e for e in logs if e["event"] == "auth_failed"]
        assert [(e["client"], e["key_prefix"], e["locked_out"]) for e in failed] == [
            (a, "sk_admin_WWWWWW", False),
            (a, "sk_admin_WWWWWW", False),
            (a, "sk_admin_WWWWWW", True),
        ]
        assert WRONG not in str(logs)

        # Locked: even the right key is refused, so that a guess cannot tell it was right.
        for key in (WRONG, ADMIN_KEY):
            r = await get(client, key, a)
            assert r.status_code == 429 and r.json() == LOCKED and r.headers["Retry-After"] == "60"
        assert (await get(client, ADMIN_KEY, b)).status_code == 200, "another client is not affected"

        clock.advance(timedelta(seconds=45))
        assert (await get(client, ADMIN_KEY, a)).headers["Retry-After"] == "15"
        clock.advance(timedelta(seconds=15))
        assert (await get(client, ADMIN_KEY, a)).status_code == 200
        assert (await get(client, WRONG, a)).status_code == 401


async def test_a_short_wrong_key_is_never_logged_whole(database: TestDatabase, natsd: Any, tmp_path: Path) -> None:
    async with routing(database, natsd, tmp_path, ManualClock(), auth_failures_per_client=0) as client:
        with capture_logs() as logs:
            codes = {(await get(client, "hunter2", "198.51.100.7")).status_code for _ in range(30)}
        assert codes == {401}, "0 switches the lockout off"
        prefixes = {e["key_prefix"] for e in logs if e["event"] == "auth_failed"}
        assert prefixes == {"hun"}


async def test_a_revoked_key_is_refused_but_never_locks_its_client_out(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    """A system still using its old key is no guesser: it must not lock out the others behind the same address."""
    limits = {"auth_failures_per_client": 3, "auth_failure_window_s": 60}
    async with routing(database, natsd, tmp_path, ManualClock(), **limits) as client:
        issued = await client.post("/api/v1/hub/api-keys", json={"role": "coordinator"}, headers=auth(ADMIN_KEY))
        assert issued.status_code == 201, issued.text
        old, key_id = issued.json()["key"], issued.json()["key_id"]
        revoked = await client.delete(f"/api/v1/hub/api-keys/{key_id}", headers=auth(ADMIN_KEY))
        assert revoked.status_code == 204, revoked.text
        with capture_logs() as logs:
            codes = [(await get(client, old, "198.51.100.9")).status_code for _ in range(10)]
        assert codes == [401] * 10
        assert {(e["ended"], e["locked_out"]) for e in logs if e["event"] == "auth_failed"} == {(True, False)}
        assert (await get(client, ADMIN_KEY, "198.51.100.9")).status_code == 200
        assert [(await get(client, WRONG, "198.51.100.9")).status_code for _ in range(4)] == [401, 401, 401, 429]
