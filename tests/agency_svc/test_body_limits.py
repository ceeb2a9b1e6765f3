"""agency_svc's body limits: an agency's file upload takes its larger limit, every other path the ordinary one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from shared.http.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BODY_BYTES
from tests.agency_svc.conftest import Agency

CASE = "/api/v1/agency/complaints/SPL-20260101-AAAAAAAA"


def _too_large(r: httpx.Response) -> str | None:
    """The limit a 413 names; None for any other answer."""
    if r.status_code != 413:
        return None
    assert r.json()["error"]["code"] == "payload_too_large", r.text
    return str(r.json()["error"]["message"]).rsplit(" ", 2)[-2]


async def test_an_agency_upload_has_the_larger_limit(agency: Agency) -> None:
    upload = f"{CASE}/attachments"
    over_upload = {"Content-Length": str(DEFAULT_MAX_UPLOAD_BODY_BYTES + 1)}

    async def nothing() -> AsyncIterator[bytes]:
        return
        yield b""

    assert _too_large(await agency.client.post(upload, content=nothing(), headers=over_upload)) == str(
        DEFAULT_MAX_UPLOAD_BODY_BYTES
    )
    past_the_ordinary = b"x" * (DEFAULT_MAX_BODY_BYTES + 1)
    assert _too_large(await agency.client.post(upload, content=past_the_ordinary)) is None
    assert _too_large(await agency.client.post(f"{CASE}/follow-ups", content=past_the_ordinary)) == str(
        DEFAULT_MAX_BODY_BYTES
    )
