"""The gateway forwards to a real service over HTTP: paths, queries, bodies and headers as they are, over kept
connections, and it tells the service who the client is (X-Forwarded-For as received, with its peer appended)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services import gateway as gateway_module
from services.gateway import Upstream, create_gateway
from services.ports import free_port
from services.upstream import SPREAD_CONNECTIONS
from shared.http.errors import install_error_handlers
from tests.services.gateway_peers import echo_upstream, serving, upstream


def _service() -> FastAPI:
    """A service as the four are built: FastAPI routes (which take no HEAD unless told) and the kit's handlers."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/api/v1/complaints")
    async def submit() -> dict[str, str]:
        return {}

    @app.get("/api/v1/complaints/{tracking_id}")
    async def read(tracking_id: str) -> dict[str, str]:
        return {"tracking_id": tracking_id}

    @app.delete("/api/v1/complaints/{tracking_id}")
    async def withdraw(tracking_id: str) -> dict[str, str]:
        return {"tracking_id": tracking_id}

    return app


async def test_the_gateway_appends_its_peer_to_x_forwarded_for() -> None:
    async with echo_upstream() as base_url:
        gateway = create_gateway([Upstream("intake", ("/api/v1/complaints",), base_url)])
        transport = httpx.ASGITransport(app=gateway, client=("203.0.113.7", 51000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            r = await client.get("/api/v1/complaints/echo")
            assert r.json()["x-forwarded-for"] == ["203.0.113.7"]
            forwarded = [("X-Forwarded-For", "198.51.100.1, 10.0.0.1"), ("X-Forwarded-For", "10.0.0.2")]
            r = await client.get("/api/v1/complaints/echo", headers=forwarded)
            assert r.json()["x-forwarded-for"] == ["198.51.100.1, 10.0.0.1, 10.0.0.2, 203.0.113.7"]


async def test_the_gateway_refuses_a_body_over_its_limit_without_buffering_it() -> None:
    async with echo_upstream() as base_url:
        gateway = create_gateway([Upstream("intake", ("/api/v1/complaints",), base_url, max_body_bytes=1024)])
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            declared = await client.post("/api/v1/complaints/echo", content=b"x" * 1025)

            async def chunks() -> AsyncIterator[bytes]:
                for _ in range(64):
                    yield b"y" * 512

            streamed = await client.post("/api/v1/complaints/echo", content=chunks())
            fits = await client.post("/api/v1/complaints/echo", content=b"z" * 1024)
    for refused in (declared, streamed):
        assert refused.status_code == 413 and refused.json()["error"]["code"] == "payload_too_large", refused.text
    assert fits.status_code == 200


async def test_the_gateway_forwards_method_path_query_and_body_as_received_over_kept_connections() -> None:
    async with echo_upstream() as base_url:
        gateway = create_gateway([Upstream("intake", ("/api/v1/complaints",), base_url)])
        async with (
            serving(gateway) as gateway_url,
            httpx.AsyncClient(base_url=gateway_url) as client,
        ):
            answers = [
                await client.request(method, "/api/v1/complaints/a%2Fb/c?x=1&y=%20z", content=f"body {method}")
                for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
            ]
    seen = [r.json() for r in answers]
    assert [r.status_code for r in answers] == [200] * 5 and all(r.headers["x-service"] == "echo" for r in answers)
    assert [s["method"] for s in seen] == ["GET", "POST", "PUT", "PATCH", "DELETE"]
    assert {s["raw_path"] for s in seen} == {"/api/v1/complaints/a%2Fb/c"} and {s["query"] for s in seen} == {
        "x=1&y=%20z"
    }
    assert [s["body"] for s in seen] == [f"body {m}" for m in ("GET", "POST", "PUT", "PATCH", "DELETE")]
    kept = len({s["peer_port"] for s in seen})
    assert kept <= SPREAD_CONNECTIONS < len(seen), "each request opened a new connection to the service"


async def test_kept_connections_are_used_in_turn_so_a_balancer_behind_them_spreads_a_light_load() -> None:
    async with echo_upstream() as base_url:
        pool = gateway_module._pool(base_url)
        try:
            one_by_one = [
                json.loads((await pool.request("GET", b"/api/v1/complaints/x", [], b"")).body)["peer_port"]
                for _ in range(3 * SPREAD_CONNECTIONS)
            ]
        finally:
            await pool.close()
    assert len(set(one_by_one)) == SPREAD_CONNECTIONS, one_by_one
    first = one_by_one[:SPREAD_CONNECTIONS]
    assert one_by_one == first * 3, "the connections were not used in turn"


async def test_a_chunked_answer_reaches_the_client_whole_with_its_headers() -> None:
    async with echo_upstream() as base_url:
        gateway = create_gateway([Upstream("intake", ("/api/v1/complaints",), base_url)])
        async with serving(gateway) as gateway_url, httpx.AsyncClient(base_url=gateway_url) as client:
            r = await client.get("/api/v1/complaints/chunked")
    assert r.status_code == 200 and r.text == "part 0;part 1;part 2;part 3;part 4;"
    assert r.headers["x-parts"] == "5" and r.headers["content-length"] == str(len(r.content))
    assert "transfer-encoding" not in r.headers


async def test_a_service_that_is_down_answers_503_in_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway_module, "CONNECT_RETRY_SECONDS", 0.5)
    gateway = create_gateway([Upstream("intake", ("/api/v1/complaints",), f"http://127.0.0.1:{free_port()}")])
    async with serving(gateway) as gateway_url, httpx.AsyncClient(base_url=gateway_url) as client:
        r = await client.post("/api/v1/complaints", json={})
        unknown = await client.get("/api/v1/nowhere")
    assert r.status_code == 503 and r.json()["error"]["code"] == "service_unavailable"
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "HEAD", "PUT", "PATCH"])
async def test_a_method_the_path_does_not_take_is_405_naming_the_services_methods_for_that_path(method: str) -> None:
    async with upstream(_service()) as base_url:
        gateway = create_gateway([Upstream("intake", ("/api/v1/complaints",), base_url)])
        async with serving(gateway) as gateway_url, httpx.AsyncClient(base_url=gateway_url, timeout=10) as client:
            one = await client.request(method, "/api/v1/complaints/SPL-1")
            all_of_them = await client.request(method, "/api/v1/complaints")
            nowhere = await client.request(method, "/api/v1/nowhere")
    assert (one.status_code, one.headers["allow"]) == (405, "DELETE, GET")
    assert (all_of_them.status_code, all_of_them.headers["allow"]) == (405, "POST")
    if method != "HEAD":
        assert one.json()["error"]["code"] == "method_not_allowed"
    # A path no service serves is not found, whatever the method (no Allow to get wrong).
    assert nowhere.status_code == 404 and "allow" not in nowhere.headers


async def test_a_head_answer_is_forwarded_with_the_services_length_and_no_body() -> None:
    async with echo_upstream() as base_url:
        gateway = create_gateway([Upstream("intake", ("/api/v1/complaints",), base_url)])
        async with serving(gateway) as gateway_url, httpx.AsyncClient(base_url=gateway_url, timeout=10) as client:
            head = await client.head("/api/v1/complaints/echo")
            get = await client.get("/api/v1/complaints/echo")
            # The kept connection the HEAD answer came over still serves the next request.
            after = [await client.get("/api/v1/complaints/echo") for _ in range(2 * SPREAD_CONNECTIONS)]
    assert head.status_code == 200 and head.content == b"" and head.headers["x-service"] == "echo"
    assert get.status_code == 200 and int(head.headers["content-length"]) > 0
    assert [r.status_code for r in after] == [200] * len(after)
