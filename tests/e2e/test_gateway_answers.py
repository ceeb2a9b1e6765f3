"""Through the one base URL of a real hub (`simpul up`, the real gateway in front of the real intake_svc): each
request gets its own final answer, whatever interim answers the service sends, and however many requests share the
gateway's kept connections at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from shared.http.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BODY_BYTES
from tests.e2e.hub import Hub, hub_on
from tests.support.databases import backends

pytestmark = pytest.mark.e2e

PATH = "/api/v1/complaints"
ANSWER_TIMEOUT_S = 30.0


@pytest.fixture(scope="module", params=backends())
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with hub_on(request.param, tmp_path_factory.mktemp("hub"), prefix="gw") as h:
        yield h


@dataclass
class Raw:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _complaint(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "content": "Petugas meminta uang untuk kunjungan keluarga di lapas.",
        "classification": "pengaduan",
        "category": "pemasyarakatan",
        "region_code": "3578",
        "reporter": {"name": "Siti Aminah", "email": "siti@example.test"},
    }


def _port(hub: Hub) -> int:
    port = urlsplit(hub.base_url).port
    assert port is not None
    return port


async def _read_answer(reader: asyncio.StreamReader) -> Raw:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
    status = int(status_line.split(" ")[1])
    headers = {name.strip().lower(): value.strip() for name, value in (line.split(":", 1) for line in lines)}
    if 100 <= status < 200:
        return Raw(status, headers, b"")
    return Raw(status, headers, await reader.readexactly(int(headers.get("content-length", "0"))))


async def _post_expecting_continue(port: int, body: bytes) -> Raw:
    """A raw HTTP/1.1 POST that waits for the interim 100 Continue before it sends its body, as curl does."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            writer.write(
                f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode()
            )
            await writer.drain()
            interim = await _read_answer(reader)
            assert interim.status == 100, interim
            writer.write(body)
            await writer.drain()
            return await _read_answer(reader)
    finally:
        writer.close()


async def test_a_request_that_expects_100_continue_gets_its_201_and_its_receipt(hub: Hub) -> None:
    answer = await _post_expecting_continue(_port(hub), json.dumps(_complaint("Expect 100-continue")).encode())
    assert answer.status == 201, answer
    assert answer.json()["tracking_id"] and answer.json()["receipt"]
    async with httpx.AsyncClient(base_url=hub.base_url, timeout=ANSWER_TIMEOUT_S) as client:
        case = await client.get(
            f"{PATH}/{answer.json()['tracking_id']}", headers={"X-Receipt": answer.json()["receipt"]}
        )
    assert case.status_code == 200 and case.json()["title"] == "Expect 100-continue", case.text


async def test_200_concurrent_mixed_requests_each_get_their_own_answer(hub: Hub) -> None:
    port = _port(hub)
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=hub.base_url, timeout=ANSWER_TIMEOUT_S, limits=limits) as client:
        seeded = []
        for i in range(5):
            r = await client.post(PATH, json=_complaint(f"seeded {i}"))
            assert r.status_code == 201, r.text
            seeded.append((f"seeded {i}", r.json()))

        async def submit(title: str, expect_continue: bool) -> tuple[str, dict[str, Any]]:
            if expect_continue:
                raw = await _post_expecting_continue(port, json.dumps(_complaint(title)).encode())
                assert raw.status == 201, (title, raw)
                return title, raw.json()
            r = await client.post(PATH, json=_complaint(title))
            assert r.status_code == 201, (title, r.text)
            return title, r.json()

        async def read_case(i: int) -> None:
            title, created = seeded[i % len(seeded)]
            r = await client.get(f"{PATH}/{created['tracking_id']}", headers={"X-Receipt": created["receipt"]})
            assert r.status_code == 200, (created["tracking_id"], r.text)
            assert (r.json()["tracking_id"], r.json()["title"]) == (created["tracking_id"], title)

        async def read_unknown(i: int) -> None:
            r = await client.get(f"{PATH}/{i}/nothing-here")
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text

        async def refused(i: int) -> None:
            r = await client.post(PATH, json={"title": f"incomplete {i}"})
            assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", r.text

        submissions = []
        others = []
        for i in range(200):
            kind = i % 5
            if kind < 2:
                submissions.append(submit(f"concurrent {i}", expect_continue=kind == 0))
            else:
                others.append((read_case, read_unknown, refused)[kind - 2](i))
        created, *_ = await asyncio.gather(asyncio.gather(*submissions), *others)

        assert len({c["tracking_id"] for _, c in created}) == len(created) == 80
        for title, c in created:
            r = await client.get(f"{PATH}/{c['tracking_id']}", headers={"X-Receipt": c["receipt"]})
            assert r.status_code == 200 and r.json()["title"] == title, (title, r.text)


async def _head_only(port: int, declared: int, path: str = PATH) -> Raw:
    """A POST whose head declares `declared` bytes of body and sends none: only an answer from the head can come."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {declared}\r\n\r\n".encode()
            )
            await writer.drain()
            return await _read_answer(reader)
    finally:
        writer.close()


async def test_a_body_over_the_services_limit_is_refused_from_its_head_alone(hub: Hub) -> None:
    """The gateway answers the service's own 413 before the body comes: it never holds more than the service would."""
    through_gateway = await _head_only(_port(hub), DEFAULT_MAX_BODY_BYTES + 1)
    from_the_service = await _head_only(hub.state()["services"]["intake"]["port"], DEFAULT_MAX_BODY_BYTES + 1)
    assert through_gateway.status == from_the_service.status == 413, through_gateway
    assert through_gateway.json() == from_the_service.json()
    assert through_gateway.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(("service", "path"), [("intake", PATH), ("agency", "/api/v1/agency/complaints")])
async def test_a_file_upload_has_the_services_larger_limit_through_the_gateway(
    hub: Hub, service: str, path: str
) -> None:
    upload = f"{path}/SPL-NOSUCHCASE/attachments"
    over = DEFAULT_MAX_UPLOAD_BODY_BYTES + 1
    through_gateway = await _head_only(_port(hub), over, upload)
    from_the_service = await _head_only(hub.state()["services"][service]["port"], over, upload)
    assert through_gateway.status == from_the_service.status == 413, through_gateway
    assert through_gateway.json() == from_the_service.json()
    assert str(DEFAULT_MAX_UPLOAD_BODY_BYTES) in through_gateway.json()["error"]["message"]
    async with httpx.AsyncClient(base_url=hub.base_url, timeout=ANSWER_TIMEOUT_S) as client:
        r = await client.post(upload, content=b"\x00" * (4 * DEFAULT_MAX_BODY_BYTES))
    assert r.json()["error"]["code"] != "payload_too_large", r.text
