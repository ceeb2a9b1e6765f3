"""Files through the gateway, over real sockets: an upload's body goes on to the service as it arrives and a
download comes back as it is served, neither held whole by the gateway; an upload has its service's larger limit,
every other path the ordinary one; a client or a service that goes away mid-file breaks that file off and nothing else.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from services import gateway as gateway_module
from services.gateway import Upstream, create_gateway
from services.ports import free_port
from services.upstream import SPREAD_CONNECTIONS
from shared.http.attachment_paths import is_download_path, is_upload_path
from shared.http.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BODY_BYTES
from shared.http.middleware import RequestGuardMiddleware
from tests.services.gateway_peers import serving, upstream

MiB = 1024 * 1024
CHUNK = 64 * 1024
FILE_BYTES = 10 * MiB
GIVE_UP_S = 20.0
"""How long a side waits for the other to act: far beyond what each step takes."""
UPLOAD = "/api/v1/complaints/SPL-1/attachments"
AGENCY_UPLOAD = "/api/v1/agency/complaints/SPL-1/attachments"
DOWNLOADS = [
    "/api/v1/complaints/SPL-1/attachments/a1",
    "/api/v1/agency/complaints/SPL-1/attachments/a1",
    "/api/v1/hub/complaints/SPL-1/attachments/a1",
]


def _part(i: int) -> bytes:
    """The i-th CHUNK of the file the service serves: every chunk differs, so a lost or repeated one shows."""
    return hashlib.sha256(i.to_bytes(4, "big")).digest() * (CHUNK // 32)


def _served_file() -> Iterator[bytes]:
    return (_part(i) for i in range(FILE_BYTES // CHUNK))


@dataclass
class Upload:
    size: int = 0
    first_chunk: asyncio.Event = field(default_factory=asyncio.Event)
    broken: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class FileService:
    """A service's file endpoints on a real port, behind the services' own guard: an upload's body is read as it
    arrives (counted and hashed, never kept), a download served in CHUNKs, its second half only once the client has
    some of the first."""

    download_length: bool = True
    uploads: list[Upload] = field(default_factory=list)
    client_has_some: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> RequestGuardMiddleware:
        routes = [
            Route(path, self.upload, methods=["POST"])
            for path in ("/api/v1/complaints/{t}/attachments", "/api/v1/agency/complaints/{t}/attachments")
        ]
        routes += [Route(path.replace("SPL-1", "{t}").replace("a1", "{a}"), self.download) for path in DOWNLOADS]
        routes.append(Route("/api/v1/complaints/{t}/messages", self.message, methods=["POST"]))
        return RequestGuardMiddleware(
            Starlette(routes=routes), "files", larger=[(is_upload_path, DEFAULT_MAX_UPLOAD_BODY_BYTES)]
        )

    async def upload(self, request: Request) -> Response:
        seen = Upload()
        self.uploads.append(seen)
        digest = hashlib.sha256()
        try:
            async for chunk in request.stream():
                if chunk:
                    seen.first_chunk.set()
                digest.update(chunk)
                seen.size += len(chunk)
        except ClientDisconnect:
            seen.broken.set()
            return Response(status_code=400)
        return JSONResponse(
            {
                "size": seen.size,
                "sha256": digest.hexdigest(),
                "content_length": request.headers.get("content-length"),
                "transfer_encoding": request.headers.get("transfer-encoding"),
            },
            status_code=201,
        )

    async def download(self, _: Request) -> Response:
        async def parts() -> AsyncIterator[bytes]:
            for i, part in enumerate(_served_file()):
                if i == FILE_BYTES // CHUNK // 2:
                    async with asyncio.timeout(GIVE_UP_S):
                        await self.client_has_some.wait()
                yield part

        headers = {"content-length": str(FILE_BYTES)} if self.download_length else {}
        return StreamingResponse(parts(), media_type="application/octet-stream", headers=headers)

    async def message(self, request: Request) -> Response:
        return JSONResponse({"size": len(await request.body())})


@asynccontextmanager
async def _through_gateway(
    service: FileService, upload_limit: int = DEFAULT_MAX_UPLOAD_BODY_BYTES
) -> AsyncIterator[str]:
    """The gateway on a real port, with the service behind all three prefixes."""
    async with upstream(service.app()) as base_url:
        gateway = create_gateway(
            [
                Upstream(name, (prefix,), base_url, max_upload_body_bytes=upload_limit)
                for name, prefix in (
                    ("intake", "/api/v1/complaints"),
                    ("agency", "/api/v1/agency"),
                    ("routing", "/api/v1/hub"),
                )
            ]
        )
        async with serving(gateway) as url:
            yield url


@asynccontextmanager
async def _peak_memory() -> AsyncIterator[list[int]]:
    """The most memory Python held at once inside the block (gateway, service and client share this process)."""
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


async def _uploading(service: FileService) -> None:
    """Until the service has the first bytes of an upload."""
    while not service.uploads:
        await asyncio.sleep(0.01)
    await service.uploads[-1].first_chunk.wait()


class Sent:
    """FILE_BYTES of random bytes in CHUNKs, hashed as they go; the second half only once the service has some of
    the first (so a gateway that held the body until its end would never send it on)."""

    def __init__(self, service: FileService):
        self.service = service
        self.digest = hashlib.sha256()
        self.size = 0

    async def stream(self) -> AsyncIterator[bytes]:
        for i in range(FILE_BYTES // CHUNK):
            if i == FILE_BYTES // CHUNK // 2:
                async with asyncio.timeout(GIVE_UP_S):
                    await _uploading(self.service)
            chunk = os.urandom(CHUNK)
            self.digest.update(chunk)
            self.size += len(chunk)
            yield chunk


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", [UPLOAD, AGENCY_UPLOAD])
async def test_an_upload_goes_on_to_the_service_as_it_arrives_whole_and_exact(declared: bool, path: str) -> None:
    service = FileService()
    sent = Sent(service)
    headers = {"Content-Type": "application/octet-stream"}
    if declared:
        headers["Content-Length"] = str(FILE_BYTES)
    async with (
        _through_gateway(service) as url,
        httpx.AsyncClient(base_url=url, timeout=GIVE_UP_S) as client,
        _peak_memory() as peak,
    ):
        r = await client.post(path, content=sent.stream(), headers=headers)
    assert r.status_code == 201, r.text
    seen = r.json()
    assert (seen["size"], seen["sha256"]) == (FILE_BYTES, sent.digest.hexdigest())
    if declared:
        assert (seen["content_length"], seen["transfer_encoding"]) == (str(FILE_BYTES), None)
    else:
        assert (seen["content_length"], seen["transfer_encoding"]) == (None, "chunked")
    assert peak[0] < FILE_BYTES // 4, f"{peak[0]} bytes held at once: the file was held whole somewhere"


@pytest.mark.parametrize("download_length", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", DOWNLOADS)
async def test_a_download_comes_back_as_it_is_served_whole_and_exact(download_length: bool, path: str) -> None:
    service = FileService(download_length=download_length)
    got = hashlib.sha256()
    size = 0
    async with (
        _through_gateway(service) as url,
        httpx.AsyncClient(base_url=url, timeout=GIVE_UP_S) as client,
        _peak_memory() as peak,
        client.stream("GET", path) as r,
    ):
        async for part in r.aiter_bytes():
            service.client_has_some.set()
            got.update(part)
            size += len(part)
    expected = hashlib.sha256()
    for part in _served_file():
        expected.update(part)
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    assert (size, got.hexdigest()) == (FILE_BYTES, expected.hexdigest())
    if download_length:
        assert r.headers["content-length"] == str(FILE_BYTES) and "transfer-encoding" not in r.headers
    else:
        assert r.headers["transfer-encoding"] == "chunked" and "content-length" not in r.headers
    assert peak[0] < FILE_BYTES // 4, f"{peak[0]} bytes held at once: the file was held whole somewhere"


def _assert_too_large(r: httpx.Response, limit: int) -> None:
    assert r.status_code == 413, r.text
    assert r.json() == {
        "error": {"code": "payload_too_large", "message": f"the request body is larger than {limit} bytes"}
    }


async def _refused_or_cut(sending: Awaitable[httpx.Response]) -> httpx.Response | None:
    """The answer; None when the gateway answered 413 and closed while the client was still sending, so that the
    client could not read it (what the service got is checked all the same)."""
    try:
        return await sending
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
        return None


async def test_an_upload_over_its_limit_is_refused_and_the_service_gets_no_more_than_the_limit() -> None:
    service = FileService()
    limit = MiB
    async with (
        _through_gateway(service, upload_limit=limit) as url,
        httpx.AsyncClient(base_url=url, timeout=GIVE_UP_S) as client,
    ):
        declared = await _refused_or_cut(client.post(UPLOAD, content=b"x" * (limit + 1)))
        assert not service.uploads, "the declared length alone decides"

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(2 * limit // CHUNK):
                yield b"y" * CHUNK

        streamed = await _refused_or_cut(client.post(UPLOAD, content=chunks()))
        fits = await client.post(UPLOAD, content=b"z" * limit)
    for refused in (declared, streamed):
        if refused is not None:
            _assert_too_large(refused, limit)
    assert fits.status_code == 201 and fits.json()["size"] == limit
    cut_off = service.uploads[0]
    async with asyncio.timeout(GIVE_UP_S):
        await cut_off.broken.wait()
    assert 0 < cut_off.size <= limit


async def test_every_other_path_keeps_the_ordinary_limit() -> None:
    service = FileService()
    async with _through_gateway(service) as url, httpx.AsyncClient(base_url=url, timeout=GIVE_UP_S) as client:
        fits = await client.post("/api/v1/complaints/SPL-1/messages", content=b"m" * DEFAULT_MAX_BODY_BYTES)
        for path in (
            "/api/v1/complaints/SPL-1/messages",
            "/api/v1/complaints/SPL-1/attachments/a1",
            "/api/v1/hub/complaints/SPL-1/attachments",
            UPLOAD + "/",
        ):
            _assert_too_large(
                await client.post(path, content=b"m" * (DEFAULT_MAX_BODY_BYTES + 1)), DEFAULT_MAX_BODY_BYTES
            )
        upload = await client.post(UPLOAD, content=b"u" * (DEFAULT_MAX_BODY_BYTES + 1))
    assert fits.status_code == 200 and fits.json() == {"size": DEFAULT_MAX_BODY_BYTES}
    assert upload.status_code == 201 and upload.json()["size"] == DEFAULT_MAX_BODY_BYTES + 1


async def test_a_client_gone_mid_upload_breaks_that_upload_off_and_nothing_else() -> None:
    service = FileService()
    async with _through_gateway(service) as url, httpx.AsyncClient(base_url=url, timeout=GIVE_UP_S) as client:
        port = urlsplit(url).port
        assert port is not None
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(f"POST {UPLOAD} HTTP/1.1\r\nHost: x\r\nContent-Length: {FILE_BYTES}\r\n\r\n".encode())
            writer.write(b"g" * MiB)
            await writer.drain()
            async with asyncio.timeout(GIVE_UP_S):
                await _uploading(service)
        finally:
            writer.close()
        async with asyncio.timeout(GIVE_UP_S):
            await service.uploads[0].broken.wait()
        assert 0 < service.uploads[0].size <= MiB
        after = await client.post(UPLOAD, content=b"n" * MiB)
        other = await client.post("/api/v1/complaints/SPL-1/messages", content=b"{}")
    assert after.status_code == 201 and after.json()["size"] == MiB
    assert other.status_code == 200


async def test_an_upload_to_a_service_that_is_down_is_503(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway_module, "CONNECT_RETRY_SECONDS", 0.5)
    gateway = create_gateway([Upstream("intake", ("/api/v1/complaints",), f"http://127.0.0.1:{free_port()}")])
    async with serving(gateway) as url, httpx.AsyncClient(base_url=url, timeout=GIVE_UP_S) as client:
        r = await client.post(UPLOAD, content=b"x" * 1000)
        download = await client.get(DOWNLOADS[0])
    for answer in (r, download):
        assert answer.status_code == 503 and answer.json()["error"]["code"] == "service_unavailable", answer.text


@asynccontextmanager
async def _breaking_service() -> AsyncIterator[str]:
    """A service that reads an upload's head and its first CHUNK, then drops the connection; and that answers a
    download with a Content-Length of FILE_BYTES, sends one CHUNK of it and drops the connection."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if head.startswith(b"POST"):
                await reader.readexactly(CHUNK)
            else:
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % FILE_BYTES + _part(0))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    port = free_port()
    server = await asyncio.start_server(serve, "127.0.0.1", port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def test_a_service_gone_mid_file_is_502_for_an_upload_and_a_cut_off_download() -> None:
    async with _breaking_service() as base_url:
        gateway = create_gateway([Upstream("intake", ("/api/v1/complaints",), base_url)])
        async with serving(gateway) as url, httpx.AsyncClient(base_url=url, timeout=GIVE_UP_S) as client:
            upload = await client.post(UPLOAD, content=b"x" * (4 * CHUNK))
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get(DOWNLOADS[0])
    assert upload.status_code == 502 and upload.json()["error"]["code"] == "bad_gateway", upload.text


async def test_a_streamed_answer_read_to_its_end_leaves_its_connection_for_the_next_request() -> None:
    service = FileService()
    service.client_has_some.set()
    async with upstream(service.app()) as base_url:
        pool = gateway_module._pool(base_url)
        try:
            sizes = []
            for _ in range(3 * SPREAD_CONNECTIONS):
                async with pool.request_stream("POST", UPLOAD.encode(), [], _one(b"abc"), 3) as answer:
                    sizes.append(json.loads(b"".join([part async for part in answer.body]))["size"])
            kept = len(pool._idle)
            async with pool.request_stream("GET", DOWNLOADS[0].encode(), [], _one(b""), 0) as answer:
                assert len(await anext(answer.body)) > 0  # and left unread: that connection is not kept
            after = len(pool._idle)
        finally:
            await pool.close()
    assert sizes == [3] * len(sizes)
    assert kept == SPREAD_CONNECTIONS and after == kept - 1


async def _one(chunk: bytes) -> AsyncIterator[bytes]:
    yield chunk


def test_the_file_paths_are_exactly_the_attachment_paths() -> None:
    assert is_upload_path(UPLOAD) and is_upload_path(AGENCY_UPLOAD)
    for path in (
        "/api/v1/hub/complaints/SPL-1/attachments",
        "/api/v1/complaints/SPL-1/attachments/",
        "/api/v1/complaints/attachments",
        "/api/v1/complaints/a/b/attachments",
        "/api/v1/complaints/SPL-1/attachments/a1",
        "/api/v1/notify/complaints/SPL-1/attachments",
        "/x/api/v1/complaints/SPL-1/attachments",
    ):
        assert not is_upload_path(path), path
    assert all(is_download_path(path) for path in DOWNLOADS)
    for path in (UPLOAD, DOWNLOADS[0] + "/", DOWNLOADS[0] + "/x", "/api/v1/complaints/SPL-1/attachments/"):
        assert not is_download_path(path), path
