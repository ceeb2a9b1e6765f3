"""The SMS door under the fuzzer: its calls carry a channel key and are signed over the very bytes sent, so that the
generated and hostile bodies reach its handler (and only the signature's own tests meet its refusal)."""

from __future__ import annotations

import time
from collections.abc import Generator, MutableMapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests

from shared.signing import SIGNATURE_HEADER, signature

SMS_PATH = "/api/v1/channels/sms/inbound"
SMS_SECRET = "fuzz-sms-signing-secret-0123456789abcdef"
SMS_CALLERS: list[str | None] = ["channel", "channel", "channel", "channel", "agency", "wrong", None]
"""Who calls the SMS door: mostly the channel key, sometimes one it must refuse."""


def _sign(url: str, body: bytes, headers: MutableMapping[str, Any]) -> None:
    if urlsplit(url).path == SMS_PATH and SIGNATURE_HEADER not in headers:
        headers[SIGNATURE_HEADER] = signature(SMS_SECRET, int(time.time()), body)


class SignedForRequests(requests.auth.AuthBase):
    """For schemathesis' calls (requests): signs a call to the SMS door."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body.encode() if isinstance(r.body, str) else (r.body or b"")
        _sign(r.url or "", body if isinstance(body, bytes) else b"", r.headers)
        return r


class SignedForHttpx(httpx.Auth):
    """For the explicit hostile requests (httpx): signs a call to the SMS door, its streamed body read first."""

    requires_request_body = True

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        _sign(str(request.url), request.content, request.headers)
        yield request
