"""The gateway tells the services who the client is: X-Forwarded-For as received, with its peer appended."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.gateway import Upstream, create_gateway
from services.ports import free_port
from tests.support.apps import eventually


async def _echo(request: Request) -> JSONResponse:
    return JSONResponse({"x-forwarded-for": request.headers.getlist("x-forwarded-for")})


@asynccontextmanager
async def echo_upstream() -> AsyncIterator[str]:
    """A service on a loopback port that answers with the X-Forwarded-For lines it received."""
    port = free_port()
    app = Starlette(routes=[Route("/api/v1/complaints/{rest:path}", _echo, methods=["GET", "POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    try:
        await eventually(started)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_the_gateway_appends_its_peer_to_x_forwarded_for() -> None:
    async with echo_upstream() as base_url:
        gateway = create_gateway([Upstream("intake", "/api/v1/complaints", base_url)])
        transport = httpx.ASGITransport(app=gateway, client=("203.0.113.7", 51000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            r = await client.get("/api/v1/complaints/echo")
            assert r.json() == {"x-forwarded-for": ["203.0.113.7"]}
            forwarded = [("X-Forwarded-For", "198.51.100.1, 10.0.0.1"), ("X-Forwarded-For", "10.0.0.2")]
            r = await client.get("/api/v1/complaints/echo", headers=forwarded)
            assert r.json() == {"x-forwarded-for": ["198.51.100.1, 10.0.0.1, 10.0.0.2, 203.0.113.7"]}


async def test_the_gateway_refuses_a_body_over_its_limit_without_buffering_it() -> None:
    async with echo_upstream() as base_url:
        gateway = create_gateway([Upstream("intake", "/api/v1/complaints", base_url)], max_body_bytes=1024)
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
