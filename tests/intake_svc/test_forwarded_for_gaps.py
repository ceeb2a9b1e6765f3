"""A trusted proxy that does not name its client (no X-Forwarded-For, or not an address) is counted, never exempt."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.http.client_address import Client, identify_client, parse_networks
from tests.intake_svc.conftest import client_at, limited_intake
from tests.support.clock import ManualClock
from tests.support.databases import TestDatabase

LOOPBACK = parse_networks("127.0.0.1, ::1")
PROXIES = parse_networks("127.0.0.1, ::1, 10.0.0.0/8")


async def view(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> int:
    return (await client.get("/api/v1/complaints/SPL-0000000000", headers=headers)).status_code


@pytest.mark.parametrize(
    "forwarded",
    [None, "unknown", "198.51.100.7:5555", "[2001:db8::1]:443", "", "not an address, 198.51.100.7:5555"],
    ids=["missing", "unknown", "ipv4-with-port", "ipv6-with-port", "empty", "garbage-chain"],
)
async def test_a_proxy_that_names_no_client_is_limited_although_it_is_exempt(
    database: TestDatabase, natsd: Any, tmp_path: Path, forwarded: str | None
) -> None:
    # The defaults: loopback is both a trusted proxy and exempt (the machine itself).
    async with limited_intake(database, natsd, tmp_path, clock=ManualClock(), rate_limit_burst=2) as intake:
        headers = None if forwarded is None else {"X-Forwarded-For": forwarded}
        async with client_at(intake, "127.0.0.1") as proxy:
            codes = [await view(proxy, headers) for _ in range(3)]
            assert codes == [404, 404, 429], "counted as the proxy, not exempt"
            # Every client the proxy does not name shares that one count.
            assert await view(proxy) == 429 and await view(proxy, {"X-Forwarded-For": "unknown"}) == 429
            # A client the proxy names is counted by itself; the machine itself, named, stays exempt.
            assert await view(proxy, {"X-Forwarded-For": "198.51.100.9"}) == 404
            assert {await view(proxy, {"X-Forwarded-For": "127.0.0.1"}) for _ in range(4)} == {404}


def test_identify_client_marks_the_stand_ins() -> None:
    ip = ipaddress.ip_address
    assert identify_client("127.0.0.1", [], PROXIES) == Client(ip("127.0.0.1"), stand_in=True)
    assert identify_client("127.0.0.1", ["  "], PROXIES) == Client(ip("127.0.0.1"), stand_in=True)
    assert identify_client("10.0.0.5", ["unknown"], PROXIES) == Client(ip("10.0.0.5"), stand_in=True)
    assert identify_client("10.0.0.5", ["1.2.3.4:80"], PROXIES) == Client(ip("10.0.0.5"), stand_in=True)
    assert identify_client("10.0.0.5", ["x, 10.1.1.1"], PROXIES) == Client(ip("10.1.1.1"), stand_in=True)
    # Named clients: by an untrusted peer itself, by the first untrusted hop, or the leftmost of a trusted chain.
    assert identify_client("203.0.113.9", [], PROXIES) == Client(ip("203.0.113.9"))
    assert identify_client("203.0.113.9", ["unknown"], PROXIES) == Client(ip("203.0.113.9"))
    assert identify_client("10.0.0.5", ["x, 198.51.100.1"], PROXIES) == Client(ip("198.51.100.1"))
    assert identify_client("127.0.0.1", ["127.0.0.1"], LOOPBACK) == Client(ip("127.0.0.1"))
    assert identify_client(None, [], PROXIES) == Client(None)
