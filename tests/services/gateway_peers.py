"""What the gateway tests serve: an echo service, and the gateway on a real port as `simpul up` serves it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from services.gateway_http import GatewayHttpProtocol
from services.ports import free_port
from tests.support.apps import eventually


async def _echo(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "x-forwarded-for": request.headers.getlist("x-forwarded-for"),
            "method": request.method,
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.scope["query_string"].decode(),
            "body": (await request.body()).decode(),
            "peer_port": request.client.port if request.client else None,
        },
        headers={"X-Service": "echo"},
    )


async def _chunked(_: Request) -> StreamingResponse:
    async def parts() -> AsyncIterator[bytes]:
        for i in range(5):
            yield f"part {i};".encode()

    return StreamingResponse(parts(), media_type="text/plain", headers={"X-Parts": "5"})


@asynccontextmanager
async def echo_upstream() -> AsyncIterator[str]:
    """A service on a loopback port that answers with what it received (headers, path, query, body, peer port)."""
    app = Starlette(
        routes=[
            Route("/api/v1/complaints/chunked", _chunked),
            Route("/api/v1/complaints/{rest:path}", _echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
    )
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), log_config=None, lifespan="off", proxy_headers=False
    )
    async with _served(config) as url:
        yield url


@asynccontextmanager
async def upstream(app: ASGIApp) -> AsyncIterator[str]:
    """This app as a service on a loopback port."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), log_config=None, lifespan="off", proxy_headers=False
    )
    async with _served(config) as url:
        yield url


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """The gateway on a real loopback port, served as `simpul up` serves it."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), log_config=None, http=GatewayHttpProtocol, access_log=False
    )
    async with _served(config) as url:
        yield url


@asynccontextmanager
async def _served(config: uvicorn.Config) -> AsyncIterator[str]:
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    try:
        await eventually(started)
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        await task
