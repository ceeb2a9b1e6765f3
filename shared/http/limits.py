"""The request body limit: 413 before a body larger than the service takes is read into memory.

One limit for every path, except the paths given a larger one: attachment uploads (see
shared.http.attachment_paths) take a file of up to `attachment_max_bytes` and its multipart framing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import ApiError

DEFAULT_MAX_BODY_BYTES = 256 * 1024
"""Room for the largest legitimate request (a 20,000-character text, every character JSON-escaped), and no more."""
DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
"""The largest attached file by default (the attachment code's `attachment_max_bytes`)."""
UPLOAD_BODY_OVERHEAD = 64 * 1024
"""What an upload's body holds besides the file: the multipart boundaries, part headers and a few small fields."""
DEFAULT_MAX_UPLOAD_BODY_BYTES = DEFAULT_ATTACHMENT_MAX_BYTES + UPLOAD_BODY_OVERHEAD

PathMatcher = Callable[[str], bool] | re.Pattern[str] | str
"""A predicate on the decoded path (`scope["path"]`), or a regular expression the whole path must match."""


def upload_body_limit(max_upload_body_bytes: int | None, attachment_max_bytes: int | None) -> int:
    """The largest upload body: as configured, else room for the largest file and its framing, else the default."""
    if max_upload_body_bytes is not None:
        return max_upload_body_bytes
    if attachment_max_bytes is not None:
        return attachment_max_bytes + UPLOAD_BODY_OVERHEAD
    return DEFAULT_MAX_UPLOAD_BODY_BYTES


class BodyLimitSettings(BaseSettings):
    """For services whose body limits are configurable; any other service gets the defaults."""

    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES,
        ge=1024,
        description="The largest request body, in bytes; a larger one answers 413 without being read.",
    )
    max_upload_body_bytes: int = Field(
        default=DEFAULT_MAX_UPLOAD_BODY_BYTES,
        ge=1024,
        description="The largest body of an attachment upload (a POST to .../attachments), in bytes; a larger one"
        " answers 413 without being read. Unset, it is the largest file (attachment_max_bytes, where the service"
        f" has that setting; else {DEFAULT_ATTACHMENT_MAX_BYTES}) plus {UPLOAD_BODY_OVERHEAD} for the multipart"
        " framing.",
    )

    @model_validator(mode="after")
    def _room_for_the_largest_file(self) -> Self:
        if "max_upload_body_bytes" not in self.model_fields_set:
            attachment_max = getattr(self, "attachment_max_bytes", None)
            self.max_upload_body_bytes = upload_body_limit(
                None, attachment_max if isinstance(attachment_max, int) else None
            )
        return self


class BodyLimits:
    """The body limit of each path: that of the first of `larger` whose matcher takes the path, else `default`."""

    def __init__(self, default: int = DEFAULT_MAX_BODY_BYTES, larger: Sequence[tuple[PathMatcher, int]] = ()):
        self.default = default
        self.larger = [(_predicate(matcher), limit) for matcher, limit in larger]

    def larger_for(self, path: str) -> int | None:
        """The path's own limit, if it has one."""
        for matches, limit in self.larger:
            if matches(path):
                return limit
        return None

    def for_path(self, path: str) -> int:
        limit = self.larger_for(path)
        return self.default if limit is None else limit


def _predicate(matcher: PathMatcher) -> Callable[[str], bool]:
    if isinstance(matcher, str | re.Pattern):
        pattern = re.compile(matcher)
        return lambda path: pattern.fullmatch(path) is not None
    return matcher


class PayloadTooLarge(HTTPException):
    """Raised from `receive` once a body passes the limit; an HTTPException, so FastAPI renders it as a 413."""

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    """Refuses a body over its path's limit with 413: at once by its Content-Length, else while it streams in.

    `max_body_bytes` holds for every path but those `larger` names, each with its own limit (the first that matches).
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        larger: Sequence[tuple[PathMatcher, int]] = (),
    ):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.limits = BodyLimits(max_body_bytes, larger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        declared = content_length(scope)
        if declared is not None and declared > limit:
            await send_payload_too_large(send, PayloadTooLarge(limit))
            return
        started = False
        limited_receive = counted(receive, limit)

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


def counted(receive: Receive, limit: int) -> Receive:
    """`receive` that raises PayloadTooLarge once the body read so far passes `limit`."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise PayloadTooLarge(limit)
        return message

    return limited_receive


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
