"""A file upload's body: its own larger limit (a setting the gateway reads as the service does), and the services'
guard passes it on as it arrives, counted, with no NUL check (a file holds any byte); every other path as before."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic_settings import SettingsConfigDict

from services.gateway import service_upload_limit
from shared.http.attachment_paths import is_upload_path
from shared.http.errors import install_error_handlers
from shared.http.limits import (
    DEFAULT_ATTACHMENT_MAX_BYTES,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_UPLOAD_BODY_BYTES,
    UPLOAD_BODY_OVERHEAD,
    BodyLimitSettings,
)
from shared.http.middleware import RequestGuardMiddleware

PREFIX = "SIMPUL_KIT_"
UPLOAD = "/api/v1/complaints/SPL-1/attachments"
LIMIT = 512 * 1024
CHUNK = 16 * 1024


class Limits(BodyLimitSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")


class LimitsWithFiles(BodyLimitSettings):
    """As a service with attachments has them: its largest file is a setting too."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")
    attachment_max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"MAX_UPLOAD_BODY_BYTES": "2048"},
        {"ATTACHMENT_MAX_BYTES": str(1024 * 1024)},
        {"ATTACHMENT_MAX_BYTES": str(1024 * 1024), "MAX_UPLOAD_BODY_BYTES": "4096"},
    ],
)
def test_the_gateway_reads_a_services_upload_limit_as_the_service_does(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(PREFIX + name, value)
    environ = {PREFIX + name: value for name, value in env.items()}
    assert LimitsWithFiles().max_upload_body_bytes == service_upload_limit(PREFIX, environ)


def test_the_upload_limit_makes_room_for_the_largest_file_and_its_framing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Limits().max_upload_body_bytes == DEFAULT_MAX_UPLOAD_BODY_BYTES
    assert DEFAULT_MAX_UPLOAD_BODY_BYTES == DEFAULT_ATTACHMENT_MAX_BYTES + UPLOAD_BODY_OVERHEAD
    assert LimitsWithFiles(attachment_max_bytes=1000).max_upload_body_bytes == 1000 + UPLOAD_BODY_OVERHEAD
    assert LimitsWithFiles(attachment_max_bytes=1000, max_upload_body_bytes=5000).max_upload_body_bytes == 5000
    monkeypatch.setenv(PREFIX + "ATTACHMENT_MAX_BYTES", "3000")
    assert LimitsWithFiles().max_upload_body_bytes == 3000 + UPLOAD_BODY_OVERHEAD


class Body:
    """`total` bytes (NUL among them), in CHUNKs; how many the client had sent when the app read its first."""

    def __init__(self, total: int, *, declared: bool):
        self.total = total
        self.sent = 0
        self.sent_at_first_read: int | None = None
        self.headers = {"Content-Length": str(total)} if declared else {}

    async def stream(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            chunk = b"\x00\xff" * (min(CHUNK, self.total - self.sent) // 2)
            self.sent += len(chunk)
            yield chunk


def _guarded(body: list[Body]) -> RequestGuardMiddleware:
    """A service's app as build_app makes it (FastAPI, the kit's handlers, the guard), with an upload that counts
    its body as it arrives."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/api/v1/complaints/{tracking_id}/attachments", status_code=201)
    async def upload(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            if body[0].sent_at_first_read is None:
                body[0].sent_at_first_read = body[0].sent
            size += len(chunk)
        return {"size": size}

    @app.post("/api/v1/complaints/{tracking_id}/messages")
    async def message(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    return RequestGuardMiddleware(app, "kit", larger=[(is_upload_path, LIMIT)])


async def _post(path: str, body: Body) -> httpx.Response:
    transport = httpx.ASGITransport(app=_guarded([body]))
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        return await client.post(path, content=body.stream(), headers=body.headers)


def _assert_too_large(r: httpx.Response, limit: int) -> None:
    assert r.status_code == 413, r.text
    assert r.json() == {
        "error": {"code": "payload_too_large", "message": f"the request body is larger than {limit} bytes"}
    }


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_an_upload_streams_to_the_app_up_to_its_own_limit_whatever_bytes_it_holds(declared: bool) -> None:
    body = Body(LIMIT, declared=declared)
    r = await _post(UPLOAD, body)
    assert r.status_code == 201 and r.json() == {"size": LIMIT}, r.text
    assert body.sent_at_first_read is not None and body.sent_at_first_read < LIMIT, "the guard held the body"


async def test_an_upload_over_its_limit_is_413() -> None:
    declared = Body(LIMIT + 1, declared=True)
    _assert_too_large(await _post(UPLOAD, declared), LIMIT)
    assert declared.sent == 0, "the Content-Length alone decides"
    streamed = Body(4 * LIMIT, declared=False)
    r = await _post(UPLOAD, streamed)
    _assert_too_large(r, LIMIT)
    assert r.headers["connection"] == "close", "the rest of the body is not read"
    assert LIMIT < streamed.sent <= LIMIT + CHUNK


async def test_every_other_path_keeps_the_ordinary_limit_and_the_nul_guard() -> None:
    fits = await _post("/api/v1/complaints/SPL-1/messages", Body(DEFAULT_MAX_BODY_BYTES, declared=False))
    assert fits.status_code == 422 and fits.json()["error"]["message"] == "NUL characters are not accepted"
    for path in ("/api/v1/complaints/SPL-1/messages", UPLOAD + "/", "/api/v1/complaints/SPL-1/attachments/a1"):
        _assert_too_large(await _post(path, Body(DEFAULT_MAX_BODY_BYTES + 2, declared=False)), DEFAULT_MAX_BODY_BYTES)
    transport = httpx.ASGITransport(app=_guarded([Body(0, declared=False)]))
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        plain = await client.post("/api/v1/complaints/SPL-1/messages", content=json.dumps({"a": "b"}))
        nul_in_path = await client.post("/api/v1/complaints/SPL%00/attachments", content=b"\x00")
    assert plain.status_code == 200 and plain.json() == {"size": 10}
    assert nul_in_path.status_code == 422 and nul_in_path.json()["error"]["code"] == "validation_error"
