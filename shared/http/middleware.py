"""Pure ASGI middlewares: request metrics by route template, and the NUL guard."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import ApiError
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, service: str):
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            path = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(self.service, scope["method"], path, str(status[0])).inc()
            HTTP_LATENCY.labels(self.service, path).observe(time.perf_counter() - start)


_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class NulGuardMiddleware:
    """Refuses NUL characters in a path, query or JSON body with 422: PostgreSQL text cannot hold them."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"") or b"%00" in scope.get("raw_path", b""):
            await _refuse(send)
            return
        messages: list[Message] = []
        more = True
        while more:
            message = await receive()
            messages.append(message)
            more = message.get("more_body", False) and message["type"] == "http.request"
        body = b"".join(m.get("body", b"") for m in messages)
        if b"\x00" in body or _JSON_NUL.search(body):
            await _refuse(send)
            return
        replay = iter(messages)

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)


async def _refuse(send: Send) -> None:
    body = ApiError(422, "validation_error", "NUL characters are not accepted").body()
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
