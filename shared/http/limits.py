"""The request body limit: 413 before a body larger than the service takes is read into memory."""

from __future__ import annotations

import json

from pydantic import Field
from pydantic_settings import BaseSettings
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import ApiError

DEFAULT_MAX_BODY_BYTES = 256 * 1024
"""Room for the largest legitimate request (a 20,000-character text, every character JSON-escaped), and no more."""


class BodyLimitSettings(BaseSettings):
    """For services whose body limit is configurable; any other service gets DEFAULT_MAX_BODY_BYTES."""

    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES,
        ge=1024,
        description="The largest request body, in bytes; a larger one answers 413 without being read.",
    )


class PayloadTooLarge(HTTPException):
    """Raised from `receive` once a body passes the limit; an HTTPException, so FastAPI renders it as a 413."""

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    """Refuses a body over `max_body_bytes` with 413: at once by its Content-Length, else while it streams in."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await send_payload_too_large(send, PayloadTooLarge(self.max_body_bytes))
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise PayloadTooLarge(self.max_body_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except PayloadTooLarge as exc:
            if started:
                raise
            await send_payload_too_large(send, exc)


def content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            # The server has already refused a Content-Length that is not a number.
            return int(value) if value.strip().isdigit() else None
    return None


async def send_payload_too_large(send: Send, exc: PayloadTooLarge) -> None:
    payload = json.dumps(ApiError(exc.status_code, "payload_too_large", exc.detail).body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": exc.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
