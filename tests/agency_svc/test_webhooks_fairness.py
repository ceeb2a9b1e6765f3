"""Each endpoint and each node has its own share of the sender: a node whose endpoints hang until the timeout holds
only its share while another node's deliveries go out; and a node can ask for only so many redeliveries a minute."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from shared.http.idempotency import REPLAYED_HEADER
from tests.agency_svc.conftest import new_tid
from tests.agency_svc.webhook_peers import Receiver, deliveries, receiver, register, wait_delivery, webhook_agency
from tests.support.apps import eventually
from tests.support.databases import TestDatabase

SECRET = "whsec_receiver-shared-secret-42"
DISPOSITIONED = "complaint.dispositioned"
SHARES: dict[str, Any] = {
    "webhook_batch": 3,
    "webhook_in_flight_per_endpoint": 1,
    "webhook_in_flight_per_node": 2,
    "webhook_timeout_seconds": 120.0,  # the hanging receivers answer only when the test lets them
    "webhook_lease_seconds": 240.0,
}


@asynccontextmanager
async def hanging_receivers(count: int) -> AsyncIterator[list[Receiver]]:
    """Receivers that hold every request until the test ends."""
    release = asyncio.Event()
    async with AsyncExitStack() as stack:
        peers = [await stack.enter_async_context(receiver(SECRET)) for _ in range(count)]
        for peer in peers:
            peer.hold = release
        try:
            yield peers
        finally:
            release.set()


async def test_a_node_whose_endpoints_hang_holds_only_its_share_while_another_nodes_deliveries_go(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    async with (
        webhook_agency(database, natsd, tmp_path, **SHARES) as agency,
        hanging_receivers(3) as hanging,
        receiver(SECRET) as answering,
    ):
        for peer in hanging:
            await register(agency, "OTHER", peer.url, DISPOSITIONED, secret=SECRET)
        hook = await register(agency, "UPT", answering.url, DISPOSITIONED, secret=SECRET)
        for _ in range(3):  # first: each of the node's endpoints has work due before the other node's
            await agency.dispose(new_tid(), "OTHER", 1)

        async def stuck() -> bool:
            return sum(p.arrived for p in hanging) == 2

        await eventually(stuck)
        cases = [new_tid() for _ in range(4)]
        for tid in cases:
            await agency.dispose(tid, "UPT", 1)

        async def through() -> bool:
            return len(answering.accepted) == len(cases)

        await eventually(through, timeout=30)
        assert sorted(r.body["tracking_id"] for r in answering.accepted) == sorted(cases)
        assert sorted(p.arrived for p in hanging) == [0, 1, 1], "one at a time per endpoint, two for the node"
        assert all(not p.received for p in hanging), "the hanging ones are still waiting for their answer"
        assert [d["status"] for d in await deliveries(agency, "UPT", hook["id"])] == ["delivered"] * len(cases)


async def test_manual_redelivery_is_limited_per_endpoint_with_retry_after(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    async with (
        webhook_agency(database, natsd, tmp_path, webhook_redeliveries_per_minute=2) as agency,
        receiver(SECRET) as peer,
    ):
        first = await register(agency, "UPT", peer.url, DISPOSITIONED, secret=SECRET)
        other = await register(agency, "UPT", peer.url, DISPOSITIONED, secret=SECRET)
        await agency.dispose(new_tid(), "UPT", 1)
        sent = await wait_delivery(agency, "UPT", first["id"], status="delivered")
        kept = await wait_delivery(agency, "UPT", other["id"], status="delivered")

        def path(hook: dict[str, Any], delivery: dict[str, Any]) -> str:
            return f"/api/v1/agency/webhooks/{hook['id']}/deliveries/{delivery['delivery_id']}/redeliver"

        async def redeliver(who: str, hook: dict[str, Any], delivery: dict[str, Any]) -> int:
            r = await agency.client.post(path(hook, delivery), headers=agency.h(who))
            if r.status_code == 202:  # sent again before the next ask, so none meets a 409
                await wait_delivery(agency, "UPT", hook["id"], status="delivered", attempts=r.json()["attempts"] + 1)
            return r.status_code

        assert await redeliver("KANWIL", first, sent) == 404  # another node's asking counts for that node only
        assert [await redeliver("UPT", first, sent) for _ in range(2)] == [202, 202]
        refused = await agency.client.post(path(first, sent), headers=agency.h("UPT"))
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["retry-after"]) >= 1
        error = refused.json()["error"]
        assert error["code"] == "rate_limited"
        assert "terlalu banyak" in error["message"] and "too many redeliveries" in error["message"]
        # A request retried with its Idempotency-Key is the same request: answered again, spending nothing.
        keyed = {**agency.h("UPT"), "Idempotency-Key": "redeliver-once"}
        answers = [await agency.client.post(path(other, kept), headers=keyed) for _ in range(3)]
        assert [r.status_code for r in answers] == [202, 202, 202], [r.text for r in answers]
        assert [r.headers.get(REPLAYED_HEADER) for r in answers] == [None, "true", "true"]
        await wait_delivery(agency, "UPT", other["id"], status="delivered", attempts=2)
        assert await redeliver("UPT", other, kept) == 202, "each endpoint has its own count"
