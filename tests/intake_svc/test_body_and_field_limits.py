"""Body and field sizes: 413 before an oversized body is read, 422 for any field past its maximum."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from intake_svc.models import Base
from shared.http.limits import DEFAULT_MAX_BODY_BYTES
from tests.intake_svc.conftest import Intake, complaint_body, limited_intake
from tests.support.databases import TestDatabase

CHUNK = 16 * 1024
JSON = {"Content-Type": "application/json"}


class Chunks:
    """A streamed body of `total` bytes that counts how much of it the server pulled."""

    def __init__(self, total: int, declared: bool):
        self.total = total
        self.sent = 0
        self.headers = {**JSON, "Content-Length": str(total)} if declared else dict(JSON)

    async def stream(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            chunk = b" " * min(CHUNK, self.total - self.sent)
            self.sent += len(chunk)
            yield chunk


def _assert_too_large(r: httpx.Response) -> None:
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {
        "error": {
            "code": "payload_too_large",
            "message": f"the request body is larger than {DEFAULT_MAX_BODY_BYTES} bytes",
        }
    }


async def test_a_declared_oversized_body_is_refused_unread(intake: Intake) -> None:
    body = Chunks(4 * DEFAULT_MAX_BODY_BYTES, declared=True)
    r = await intake.client.post("/api/v1/complaints", content=body.stream(), headers=body.headers)
    _assert_too_large(r)
    assert body.sent == 0, "the Content-Length alone decides"
    assert await intake.count(Base.metadata.tables["complaints"]) == 0


async def test_a_chunked_oversized_body_is_refused_as_soon_as_it_passes_the_limit(intake: Intake) -> None:
    body = Chunks(64 * DEFAULT_MAX_BODY_BYTES, declared=False)
    r = await intake.client.post("/api/v1/complaints", content=body.stream(), headers=body.headers)
    assert "content-length" not in r.request.headers
    _assert_too_large(r)
    assert DEFAULT_MAX_BODY_BYTES < body.sent <= DEFAULT_MAX_BODY_BYTES + CHUNK, body.sent


async def test_every_public_endpoint_is_limited(intake: Intake) -> None:
    receipt = await intake.submit()
    headers = {**JSON, "X-Receipt": receipt["receipt"]}
    too_big = b"{" + b" " * DEFAULT_MAX_BODY_BYTES + b"}"
    for path in ("", f"/{receipt['tracking_id']}/messages", f"/{receipt['tracking_id']}/rating"):
        _assert_too_large(await intake.client.post(f"/api/v1/complaints{path}", content=too_big, headers=headers))
    # Below the limit, the NUL guard still reads the whole body.
    r = await intake.client.post(
        "/api/v1/complaints", content=json.dumps(complaint_body(content="a\u0000b")).encode(), headers=JSON
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


async def test_the_largest_legitimate_submission_fits_the_default(intake: Intake) -> None:
    emoji = "\U0001f600"  # JSON-escaped as a surrogate pair: 12 bytes for one character
    email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 49 + ".test"
    body = complaint_body(
        title=emoji * 200,
        content=emoji * 20000,
        category=emoji * 100,
        agency_code="A" * 64,
        reporter={"name": emoji * 200, "email": email, "phone": "+62 (812) 3456-78901"},
    )
    raw = json.dumps(body, ensure_ascii=True).encode()
    assert 240_000 < len(raw) <= DEFAULT_MAX_BODY_BYTES
    r = await intake.client.post("/api/v1/complaints", content=raw, headers=JSON)
    assert r.status_code == 201, r.text[:500]
    view = await intake.view(r.json())
    assert view["title"] == emoji * 200


async def test_the_limit_is_a_setting(database: TestDatabase, natsd: Any, tmp_path: Path) -> None:
    async with limited_intake(database, natsd, tmp_path, max_body_bytes=2048) as intake:
        small = json.dumps(complaint_body()).encode()
        r = await intake.client.post("/api/v1/complaints", content=small, headers=JSON)
        assert r.status_code == 201, r.text
        r = await intake.client.post("/api/v1/complaints", json=complaint_body(content="x" * 3000))
        assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
        assert r.json()["error"]["message"] == "the request body is larger than 2048 bytes"


def _loc(r: httpx.Response) -> list[list[Any]]:
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"
    return [d["loc"] for d in r.json()["error"]["details"]]


OVERSIZED_SUBMISSIONS: dict[str, tuple[dict[str, Any], list[Any]]] = {
    "title": (complaint_body(title="x" * 201), ["body", "title"]),
    "content": (complaint_body(content="x" * 20001), ["body", "content"]),
    "category": (complaint_body(category="x" * 101), ["body", "category"]),
    "agency_code": (complaint_body(agency_code="A" * 65), ["body", "agency_code"]),
    "region_code": (complaint_body(region_code="3" * 12), ["body", "region_code"]),
    "reporter.name": (complaint_body(reporter={"name": "x" * 201}), ["body", "reporter", "name"]),
    "reporter.email": (
        complaint_body(reporter={"email": "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 62 + ".test"}),
        ["body", "reporter", "email"],
    ),
    "reporter.phone": (complaint_body(reporter={"phone": "+62 812 3456 7890 1234"}), ["body", "reporter", "phone"]),
}


async def test_every_field_has_a_maximum(intake: Intake) -> None:
    for name, (body, loc) in OVERSIZED_SUBMISSIONS.items():
        r = await intake.client.post("/api/v1/complaints", json=body)
        assert loc in _loc(r), name
    r = await intake.client.post("/api/v1/complaints", json=complaint_body(), headers={"Idempotency-Key": "k" * 201})
    assert ["header", "Idempotency-Key"] in _loc(r)
    assert await intake.count(Base.metadata.tables["complaints"]) == 0

    receipt = await intake.submit()
    path = f"/api/v1/complaints/{receipt['tracking_id']}"
    headers = {"X-Receipt": receipt["receipt"]}
    r = await intake.client.post(f"{path}/messages", json={"content": "x" * 5001}, headers=headers)
    assert ["body", "content"] in _loc(r)
    r = await intake.client.post(f"{path}/rating", json={"score": 5, "comment": "x" * 2001}, headers=headers)
    assert ["body", "comment"] in _loc(r)
    # At their maximum, the same fields are accepted.
    r = await intake.client.post(f"{path}/messages", json={"content": "x" * 5000}, headers=headers)
    assert r.status_code == 201, r.text


async def test_an_upload_has_its_own_larger_limit(database: TestDatabase, natsd: Any, tmp_path: Path) -> None:
    """How an upload's body over the limit is cut off as it streams in is the kit's (tests/test_kit_upload_limits.py):
    here, that intake gives its upload path the setting."""
    async with limited_intake(database, natsd, tmp_path, max_body_bytes=2048, max_upload_body_bytes=8192) as intake:
        receipt = await intake.submit()
        upload = f"/api/v1/complaints/{receipt['tracking_id']}/attachments"
        headers = {"X-Receipt": receipt["receipt"], "Content-Type": "application/octet-stream"}
        declared = Chunks(8193, declared=True)
        too_large = await intake.client.post(upload, content=declared.stream(), headers=declared.headers | headers)
        # Past the ordinary limit, and binary: the guard lets it through to the app.
        within = await intake.client.post(upload, content=b"\x00" * 8192, headers=headers)
        elsewhere = await intake.client.post(f"{upload}/x", content=b" " * 4096, headers=headers)
    assert too_large.status_code == 413 and declared.sent == 0
    assert too_large.json()["error"]["message"] == "the request body is larger than 8192 bytes"
    refusal = within.json().get("error", {})
    assert refusal.get("code") != "payload_too_large" and "NUL" not in refusal.get("message", ""), within.text
    assert elsewhere.status_code == 413
    assert elsewhere.json()["error"]["message"] == "the request body is larger than 2048 bytes"
