"""The services' one pure ASGI middleware: the body limit, the NUL guard and request metrics by route template."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import ApiError
from shared.http.limits import (
    DEFAULT_MAX_BODY_BYTES,
    BodyLimits,
    PathMatcher,
    PayloadTooLarge,
    content_length,
    send_payload_too_large,
)
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS

_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class RequestGuardMiddleware:
    """Before the app sees a request: a body over `max_body_bytes` answers 413 (at once by its Content-Length, else
    as it streams in) and a NUL character in the path, query or JSON body answers 422 (PostgreSQL text cannot hold
    one). Every request, refused or not, is counted and timed by its route template.

    A path `larger` names (a file upload) has its own limit, and its body streams to the app as it arrives,
    counted but neither held nor searched for NUL (a file may hold any byte): what the app makes of it is the app's
    to check.

    One layer rather than three: each ASGI layer costs every request a call and a `send` wrapper of its own.
    """

    def __init__(
        self,
        app: ASGIApp,
        service: str,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        larger: Sequence[tuple[PathMatcher, int]] = (),
    ):
        self.app = app
        self.service = service
        self.max_body_bytes = max_body_bytes
        self.limits = BodyLimits(max_body_bytes, larger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            streamed_limit = self.limits.larger_for(scope["path"]) if self.limits.larger else None
            if streamed_limit is not None:
                await self._streamed(scope, receive, send_and_note, streamed_limit)
                return
            messages = await self._checked_body(scope, receive, send_and_note)
            if messages is None:
                return
            replay = iter(messages)

            async def replayed() -> Message:
                return next(replay, None) or await receive()

            await self.app(scope, replayed, send_and_note)
        finally:
            route: Any = scope.get("route")
            path = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(self.service, scope["method"], path, str(status)).inc()
            HTTP_LATENCY.labels(self.service, path).observe(time.perf_counter() - start)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """The app, with the body counted against `limit` as the app reads it."""
        declared = content_length(scope)
        if declared is not None and declared > limit:
            await send_payload_too_large(send, PayloadTooLarge(limit))
            return
        if _nul_in_address(scope):
            await _refuse_nul(send)
            return
        received = 0
        over = started = False

        async def limited_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise PayloadTooLarge(limit)
            return message

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if over:
                    # The app's own 413 (FastAPI renders PayloadTooLarge): the rest of the body is not read.
                    message = {**message, "headers": [*message.get("headers", ()), (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, limited_receive, closing_send)
        except PayloadTooLarge as exc:
            if started:
                raise
            await send_payload_too_large(send, exc)

    async def _checked_body(self, scope: Scope, receive: Receive, send: Send) -> list[Message] | None:
        """The request's body messages, read in full; None once a refusal has been sent instead."""
        declared = content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await send_payload_too_large(send, PayloadTooLarge(self.max_body_bytes))
            return None
        if _nul_in_address(scope):
            await _refuse_nul(send)
            return None
        messages: list[Message] = []
        received = 0
        more = True
        while more:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                await send_payload_too_large(send, PayloadTooLarge(self.max_body_bytes))
                return None
            more = message.get("more_body", False)
        body = messages[0].get("body", b"") if len(messages) == 1 else b"".join(m.get("body", b"") for m in messages)
        if b"\x00" in body or (b"\\u0000" in body and _JSON_NUL.search(body)):
            await _refuse_nul(send)
            return None
        return messages


def _nul_in_address(scope: Scope) -> bool:
    return "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"") or b"%00" in scope.get("raw_path", b"")


async def _refuse_nul(send: Send) -> None:
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
