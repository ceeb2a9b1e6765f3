"""The per-client rate limit of the public endpoints, and who the client is behind proxies."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from intake_svc.complaints.limits import PublicLimits
from intake_svc.settings import IntakeSettings
from shared.http.client_address import client_key, parse_networks, resolve_client
from shared.http.ratelimit import TokenBucket
from tests.intake_svc.conftest import client_at, complaint_body, limited_intake
from tests.support.clock import ManualClock
from tests.support.databases import TestDatabase

LOOPBACK = parse_networks("127.0.0.1, ::1")


def xff(*hops: str) -> dict[str, str]:
    return {"X-Forwarded-For": ", ".join(hops)}


async def view(client: httpx.AsyncClient, tid: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """A receipt-less read: a 404 that costs a request (and a receipt strike, far below that limit here)."""
    return await client.get(f"/api/v1/complaints/{tid}", headers=headers)


def assert_rate_limited(r: httpx.Response, retry_after: str) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"error": {"code": "rate_limited", "message": "too many requests; retry later"}}
    assert r.headers["Retry-After"] == retry_after


async def test_past_the_burst_every_public_endpoint_answers_429_until_a_token_is_back(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    clock = ManualClock()
    async with limited_intake(
        database, natsd, tmp_path, clock=clock, rate_limit_per_minute=6, rate_limit_burst=3
    ) as intake:
        a = xff("198.51.100.7")
        receipt = await intake.submit(headers=a)
        tid = receipt["tracking_id"]
        opened = {**a, "X-Receipt": receipt["receipt"]}
        assert (await intake.client.get(f"/api/v1/complaints/{tid}", headers=opened)).status_code == 200
        r = await intake.client.post(f"/api/v1/complaints/{tid}/messages", json={}, headers=opened)
        assert r.status_code == 422

        # The burst of 3 is spent; a token comes back every 10 s (6 a minute).
        refused = [
            await intake.client.post("/api/v1/complaints", json=complaint_body(), headers=a),
            await intake.client.get(f"/api/v1/complaints/{tid}", headers=opened),
            await intake.client.post(f"/api/v1/complaints/{tid}/messages", json={"content": "x"}, headers=opened),
            await intake.client.post(f"/api/v1/complaints/{tid}/rating", json={"score": 5}, headers=opened),
        ]
        for r in refused:
            assert_rate_limited(r, "10")
        assert (await intake.client.get("/healthz", headers=a)).status_code == 200, "operations are not limited"

        # Other clients are not affected, nor is the machine itself (exempt by default).
        assert (
            await intake.client.get(f"/api/v1/complaints/{tid}", headers={**opened, **xff("198.51.100.8")})
        ).status_code == 200
        assert (
            await intake.client.get(f"/api/v1/complaints/{tid}", headers={"X-Receipt": receipt["receipt"]})
        ).status_code == 200

        clock.advance(timedelta(seconds=4))
        assert_rate_limited(await view(intake.client, tid, a), "6")
        clock.advance(timedelta(seconds=6))
        assert (await intake.client.get(f"/api/v1/complaints/{tid}", headers=opened)).status_code == 200
        assert_rate_limited(await view(intake.client, tid, a), "10")

        # A long pause refills the burst, and no more than the burst.
        clock.advance(timedelta(hours=1))
        codes = [(await view(intake.client, tid, a)).status_code for _ in range(4)]
        assert codes == [404, 404, 404, 429]


async def test_the_rate_limit_switches_off(database: TestDatabase, natsd: Any, tmp_path: Path) -> None:
    async with limited_intake(
        database, natsd, tmp_path, clock=ManualClock(), rate_limit_enabled=False, rate_limit_burst=1
    ) as intake:
        codes = {(await view(intake.client, "SPL-0000000000", xff("198.51.100.7"))).status_code for _ in range(8)}
        assert codes == {404}
    offs: list[dict[str, Any]] = [{"rate_limit_enabled": False}, {"rate_limit_per_minute": 0}, {"rate_limit_burst": 0}]
    for off in offs:
        settings = IntakeSettings(encryption_keys="k", **({"rate_limit_burst": 1} | off))
        limits = PublicLimits(settings, ManualClock())
        assert not limits.requests.enabled, off
        assert all(limits.requests.take("198.51.100.7") is None for _ in range(100)), off


async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    async with limited_intake(
        database,
        natsd,
        tmp_path,
        clock=ManualClock(),
        rate_limit_per_minute=2,
        rate_limit_burst=2,
        trusted_proxies="127.0.0.1,::1,10.0.0.0/8",
    ) as intake:
        tid = "SPL-0000000000"
        # An untrusted peer is the client, whatever X-Forwarded-For it sends, loopback included.
        async with client_at(intake, "203.0.113.9") as outsider:
            codes = [(await view(outsider, tid, xff(f"198.51.100.{i}"))).status_code for i in range(2)]
            assert codes == [404, 404]
            assert_rate_limited(await view(outsider, tid, xff("127.0.0.1")), "30")
            assert_rate_limited(await view(outsider, tid), "30")

        # Behind a trusted proxy, the right-most untrusted address is the client; what is left of it is ignored.
        a = xff("198.51.100.20")
        assert (await view(intake.client, tid, a)).status_code == 404
        assert (await view(intake.client, tid, xff("1.1.1.1", "198.51.100.20"))).status_code == 404
        assert_rate_limited(await view(intake.client, tid, xff("2.2.2.2", "198.51.100.20")), "30")
        assert (await view(intake.client, tid, xff("198.51.100.21"))).status_code == 404

        # Through a chain of trusted proxies (10.0.0.0/8 here), to the address the outermost one saw.
        async with client_at(intake, "10.0.0.5") as proxy:
            assert_rate_limited(await view(proxy, tid, xff("198.51.100.20", "10.1.1.1")), "30")
            assert (await view(proxy, tid, xff("198.51.100.30", "10.1.1.1"))).status_code == 404


async def test_each_limit_remembers_a_bounded_number_of_clients(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    async with limited_intake(
        database, natsd, tmp_path, clock=ManualClock(), rate_limit_burst=1, limits_max_clients=3
    ) as intake:
        tid = "SPL-0000000000"
        a = xff("198.51.100.1")
        assert (await view(intake.client, tid, a)).status_code == 404
        assert (await view(intake.client, tid, a)).status_code == 429
        for i in range(2, 12):
            assert (await view(intake.client, tid, xff(f"198.51.100.{i}"))).status_code == 404
        limits: PublicLimits = intake.runtime.context.limits
        assert len(limits.requests) == 3
        assert len(limits.receipt_clients) <= 3
        # The client idle longest was forgotten first: its bucket starts full again.
        assert (await view(intake.client, tid, a)).status_code == 404


def test_client_resolution() -> None:
    trusted = parse_networks("127.0.0.1, ::1, 10.0.0.0/8")
    resolve = lambda peer, *lines: client_key(resolve_client(peer, list(lines), trusted))  # noqa: E731
    assert resolve("203.0.113.9", "198.51.100.1") == "203.0.113.9"
    assert resolve("127.0.0.1") == "127.0.0.1"
    assert resolve("127.0.0.1", "198.51.100.1, 10.0.0.2") == "198.51.100.1"
    assert resolve("127.0.0.1", "198.51.100.1", "198.51.100.2, 10.0.0.2") == "198.51.100.2", "every line, in order"
    assert resolve("127.0.0.1", "10.0.0.3, 10.0.0.2") == "10.0.0.3", "all trusted: the furthest hop"
    assert resolve("127.0.0.1", "198.51.100.1, not-an-address, 10.0.0.2") == "10.0.0.2", "garbage ends the walk"
    assert resolve("127.0.0.1", "::ffff:198.51.100.1") == "198.51.100.1"
    # An IPv6 client is its /64, so it cannot step around the limit by changing its interface id.
    assert resolve("2001:db8:1:2::1") == resolve("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert resolve("127.0.0.1", "2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert resolve(None) == "unknown"
    assert resolve_client("::1", [], LOOPBACK) == ipaddress.ip_address("::1")


def test_the_token_bucket_refills_at_its_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(clock, per_minute=120, burst=2, max_keys=10)
    assert [bucket.take("a"), bucket.take("a")] == [None, None]
    assert bucket.take("a") == 0.5
    clock.advance(timedelta(seconds=0.25))
    assert bucket.take("a") == 0.25
    clock.advance(timedelta(seconds=0.25))
    assert bucket.take("a") is None
    assert bucket.take("b") is None
