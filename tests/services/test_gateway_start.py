"""`simpul up`'s gateway: a failed start-up is an error that the start-up's clean-up handles, not an exit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from starlette.applications import Starlette

from services.ports import reserve_port
from services.up import _front_door, _GatewayServer, serve_gateway


@asynccontextmanager
async def _failing_start(_: Starlette) -> AsyncIterator[None]:
    raise RuntimeError("the app could not start")
    yield  # pragma: no cover


async def test_a_gateway_that_cannot_start_raises_instead_of_leaving_the_loop() -> None:
    with reserve_port() as held:
        port = held.getsockname()[1]
    with _front_door(port) as front:
        server = _GatewayServer(
            uvicorn.Config(Starlette(lifespan=_failing_start), log_config=None, lifespan="on", loop="none")
        )
        with pytest.raises(RuntimeError, match="the gateway could not start"):
            await serve_gateway(server, front)
