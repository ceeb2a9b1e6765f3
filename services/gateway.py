"""The one base URL: routes each request by path prefix to its service, serves the merged docs, and sends every
other path to the pages (services/web) when they run."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.responses import Response as StarletteResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from services.openapi_merge import merge_openapi
from services.upstream import Answer, StreamedAnswer, UpstreamBroken, UpstreamPool, UpstreamUnavailable
from shared.errors import ApiError
from shared.http.attachment_paths import is_download_path, is_upload_path
from shared.http.errors import install_error_handlers
from shared.http.limits import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_UPLOAD_BODY_BYTES,
    BodyLimitMiddleware,
    content_length,
    upload_body_limit,
)

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
    }
)
FORWARDING = HOP_BY_HOP | {b"x-forwarded-for", b"expect"}
"""Expect is answered here (uvicorn sends 100 Continue when the gateway reads the body), not passed on: the body
goes to the service whole, with nothing left to wait for."""
RESPONSE_DROPPED = HOP_BY_HOP
GATEWAY_PATHS = frozenset({"/docs", "/openapi.json", "/healthz", "/readyz"})
"""The gateway's own paths; these, and every path under /api, never go to the pages."""
API_ROOT = "/api"
SITE_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"]
"""What a path that is neither the gateway's own nor a service's is answered 404 to (whatever the method)."""
CONNECT_RETRY_SECONDS = 10.0
BODY_IDLE_SECONDS = 10.0
"""A body that sends nothing for this long is answered 408: the head's deadline (gateway_http) has passed by then."""
BODY_TIMEOUT_SECONDS = 120.0
"""The whole body must arrive within this, however it trickles (at the service's limit, from a slow mobile link)."""
UPLOAD_TIMEOUT_SECONDS = 600.0
"""As BODY_TIMEOUT_SECONDS, for a file upload's body (10 MiB over a 200 kbit/s link takes 7 minutes)."""
SEND_IDLE_SECONDS = 30.0
"""A streamed answer (a file) whose client takes nothing for this long is cut off: it holds a service's connection."""
DESCRIPTION = (
    "Simpul: a coordination hub for complaints about public services (SP4N-LAPOR! style). "
    "Reporters and channels use `/api/v1/complaints`; hub coordinators `/api/v1/hub`; agency systems "
    "`/api/v1/agency`; the delivery log is under `/api/v1/notify`. Keys travel as `Authorization: Bearer <key>`."
)


@dataclass(frozen=True)
class Upstream:
    name: str
    prefixes: tuple[str, ...]
    base_url: str
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    """The service's own limit: the gateway buffers a body before it forwards it, so it refuses (with the service's
    413) what the service would refuse, before reading more of it than the service would."""
    max_upload_body_bytes: int = DEFAULT_MAX_UPLOAD_BODY_BYTES
    """The service's own limit on a file upload's body (shared.http.attachment_paths), which the gateway streams
    to the service rather than buffers: past it, the gateway stops and answers the service's 413."""


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(ApiError(status, code, message).body(), status_code=status)


PAGE_FAILURES = {
    502: ("Halaman tidak dapat dimuat. Coba lagi.", "The page could not be loaded. Try again."),
    503: (
        "Layanan sedang tidak tersedia. Coba lagi beberapa menit lagi.",
        "The service is not available right now. Try again in a few minutes.",
    ),
    504: ("Halaman terlalu lama dimuat. Coba lagi.", "The page took too long. Try again."),
    408: ("Kiriman Anda tidak sampai tepat waktu. Coba lagi.", "What you sent did not arrive in time. Try again."),
}


def _page_error(status: int, code: str, message: str) -> HTMLResponse:
    """A failure on the way to the pages, as a plain page in both languages (a citizen, not a program, reads it)."""
    indonesian, english = PAGE_FAILURES.get(status, PAGE_FAILURES[502])
    page = (
        "<!doctype html><html lang='id'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>Simpul</title></head>"
        f"<body><main><h1>Maaf</h1><p>{indonesian}</p><h1 lang='en'>Sorry</h1><p lang='en'>{english}</p></main>"
        "</body></html>"
    )
    headers = {"Cache-Control": "no-store", "Retry-After": "5"} if status == 503 else {"Cache-Control": "no-store"}
    return HTMLResponse(page, status_code=status, headers=headers)


def for_the_pages(path: str) -> bool:
    """Whether a path that no service's prefix takes belongs to the pages: neither the gateway's nor the API's."""
    return path not in GATEWAY_PATHS and not _under(path, API_ROOT)


def create_gateway(upstreams: Sequence[Upstream], version: str = "1.0.0", web: str | None = None) -> ASGIApp:
    """The API paths go straight to their service through a lean ASGI proxy; docs and health to FastAPI; every
    other path to the pages at `web`, when given (else a JSON 404, as for an unknown API path)."""
    ordered = sorted(((p, u) for u in upstreams for p in u.prefixes), key=lambda pu: len(pu[0]), reverse=True)
    pools = {u.name: _pool(u.base_url) for u in upstreams}
    pages_pool = _pool(web) if web else None
    proxies = {
        u.name: BodyLimitMiddleware(
            _proxy(pools[u.name], u.name), u.max_body_bytes, larger=[(is_upload_path, u.max_upload_body_bytes)]
        )
        for u in upstreams
    }
    site = BodyLimitMiddleware(_site(upstreams, pools, version, pages_pool))

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            target = next((u for prefix, u in ordered if _under(scope["path"], prefix)), None)
            # Every method: the service answers one its path does not take with 405 and the path's own Allow.
            if target is not None:
                await proxies[target.name](scope, receive, send)
                return
            if pages_pool is not None and for_the_pages(scope["path"]):
                # Streamed both ways, with no limit here: the pages read a form (and its files) as it comes, and
                # refuse one too large themselves, with a page a citizen can read.
                await _forward_streamed(pages_pool, "web", scope, receive, send, pages=True)
                return
        await site(scope, receive, send)

    return gateway


def service_body_limit(env_prefix: str, environ: Mapping[str, str]) -> int:
    """A service's body limit as it reads it from its environment (`<prefix>MAX_BODY_BYTES`), else the default."""
    value = environ.get(f"{env_prefix}MAX_BODY_BYTES", "")
    return int(value) if value.strip().isdigit() else DEFAULT_MAX_BODY_BYTES


def service_upload_limit(env_prefix: str, environ: Mapping[str, str]) -> int:
    """A service's limit on an upload's body as it reads it from its environment: `<prefix>MAX_UPLOAD_BODY_BYTES`,
    else `<prefix>ATTACHMENT_MAX_BYTES` and room for the multipart framing, else the default."""
    explicit = environ.get(f"{env_prefix}MAX_UPLOAD_BODY_BYTES", "").strip()
    largest_file = environ.get(f"{env_prefix}ATTACHMENT_MAX_BYTES", "").strip()
    return upload_body_limit(
        int(explicit) if explicit.isdigit() else None, int(largest_file) if largest_file.isdigit() else None
    )


def _pool(base_url: str) -> UpstreamPool:
    url = httpx.URL(base_url)
    return UpstreamPool(url.host, url.port or 80, connect_timeout=2.0, timeout=30.0)


def _site(
    upstreams: Sequence[Upstream], pools: dict[str, UpstreamPool], version: str, pages: UpstreamPool | None
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            for pool in pools.values():
                await pool.close()
            if pages is not None:
                await pages.close()

    app = FastAPI(title="Simpul gateway", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    install_error_handlers(app)

    async def get(u: Upstream, path: bytes, timeout: float) -> Answer:
        async with asyncio.timeout(timeout):
            return await pools[u.name].request("GET", path, [], b"")

    async def get_pages(path: bytes, timeout: float) -> Answer:
        assert pages is not None
        async with asyncio.timeout(timeout):
            return await pages.request("GET", path, [], b"")

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        docs: dict[str, dict[str, Any]] = {}
        for u in upstreams:
            try:
                docs[u.name] = json.loads((await get(u, b"/openapi.json", 30.0)).body)
            except (ConnectionError, OSError, TimeoutError, ValueError):
                return _error(503, "service_unavailable", f"{u.name} is not answering; retry shortly")
        return JSONResponse(merge_openapi(docs, title="Simpul", version=version, description=DESCRIPTION))

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Simpul API")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "gateway"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        async def check(name: str, ask: Callable[[bytes, float], Awaitable[Answer]]) -> tuple[str, str]:
            try:
                answer = await ask(b"/readyz", 3.0)
            except (ConnectionError, OSError, TimeoutError) as exc:
                return name, f"down: {type(exc).__name__}"
            return name, "ok" if answer.status == 200 else f"unavailable ({answer.status})"

        asked = [check(u.name, functools.partial(get, u)) for u in upstreams]
        if pages is not None:
            asked.append(check("web", get_pages))
        checks = dict(await asyncio.gather(*asked))
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "service": "gateway", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.api_route("/{path:path}", methods=SITE_METHODS, include_in_schema=False)
    async def unknown(path: str) -> Response:
        return _error(404, "not_found", "no such endpoint; see /docs")

    return app


def _proxy(pool: UpstreamPool, name: str) -> ASGIApp:
    async def proxy(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if "/attachments" in path and (is_upload_path(path) or is_download_path(path)):
            await _forward_streamed(pool, name, scope, receive, send)
        else:
            await _forward(pool, name, scope, receive, send)

    return proxy


def _target(scope: Scope) -> bytes:
    # Forward the path as received (still percent-encoded), so the service judges it, not the gateway.
    target: bytes = scope.get("raw_path") or scope["path"].encode()
    if scope.get("query_string"):
        target = target + b"?" + scope["query_string"]
    return target


def _forwarded_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    headers = [(k, v) for k, v in scope["headers"] if k not in FORWARDING]
    headers.append((b"x-forwarded-for", _forwarded_for(scope).encode("latin-1")))
    return headers


async def _forward(pool: UpstreamPool, name: str, scope: Scope, receive: Receive, send: Send) -> None:
    target = _target(scope)
    headers = _forwarded_headers(scope)
    try:
        body = await _read_body(receive)
    except TimeoutError:
        await _send(send, _error(408, "request_timeout", "the request body did not arrive in time"), close=True)
        return
    if body is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONNECT_RETRY_SECONDS
    while True:
        try:
            answer = await pool.request(scope["method"], target, headers, body)
            break
        except UpstreamUnavailable:
            # Nothing was sent, so a retry is safe: the service is (re)starting.
            if loop.time() > deadline:
                await _send(send, _error(503, "service_unavailable", f"{name} is unavailable; retry shortly"))
                return
            await asyncio.sleep(0.2)
        except TimeoutError:
            await _send(send, _error(504, "gateway_timeout", f"{name} did not answer in time"))
            return
        except (UpstreamBroken, OSError):
            await _send(send, _error(502, "bad_gateway", f"{name} could not be asked this request"))
            return
    out = [(k, v) for k, v in answer.headers if k.lower() not in RESPONSE_DROPPED]
    if scope["method"] == "HEAD":
        # The length of the body a GET would get, as the service said; none follows.
        out += [(k, v) for k, v in answer.headers if k.lower() == b"content-length"]
    else:
        out.append((b"content-length", str(len(answer.body)).encode("latin-1")))
    await send({"type": "http.response.start", "status": answer.status, "headers": out})
    await send({"type": "http.response.body", "body": answer.body})


class _ClientGone(Exception):
    """The client went away before its body was all sent."""


class _BodyTimedOut(Exception):
    """The client's body stalled for BODY_IDLE_SECONDS, or was not all there within its whole-body bound."""


class _StreamedBody:
    """A request's body, passed on as it arrives; whether any of it was asked for, and whether it all was."""

    def __init__(self, receive: Receive, total_seconds: float):
        self.receive = receive
        self.total_seconds = total_seconds
        self.started = False
        self.finished = False

    async def chunks(self) -> AsyncIterator[bytes]:
        self.started = True
        loop = asyncio.get_running_loop()
        end = loop.time() + self.total_seconds
        while True:
            try:
                async with asyncio.timeout_at(min(end, loop.time() + BODY_IDLE_SECONDS)):
                    message = await self.receive()
            except TimeoutError:
                raise _BodyTimedOut from None
            if message["type"] == "http.disconnect":
                raise _ClientGone
            if chunk := message.get("body", b""):
                yield chunk
            if not message.get("more_body", False):
                self.finished = True
                return


async def _forward_streamed(
    pool: UpstreamPool, name: str, scope: Scope, receive: Receive, send: Send, *, pages: bool = False
) -> None:
    """As _forward, but the body goes on as it arrives and the answer comes back as it comes: a file, up or down.
    For the `pages`, any body may carry files, and a failure is a page rather than JSON."""
    target = _target(scope)
    headers = _forwarded_headers(scope)
    chunked = any(k == b"transfer-encoding" for k, _ in scope["headers"])
    # Neither a length nor chunked framing: the request has no body (RFC 9112, 6.3).
    length = None if chunked else (content_length(scope) or 0)
    uploading = pages or is_upload_path(scope["path"])
    body = _StreamedBody(receive, UPLOAD_TIMEOUT_SECONDS if uploading else BODY_TIMEOUT_SECONDS)
    error: Callable[[int, str, str], StarletteResponse] = _page_error if pages else _error
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONNECT_RETRY_SECONDS
    answering = False
    try:
        while True:
            try:
                async with pool.request_stream(scope["method"], target, headers, body.chunks(), length) as answer:
                    answering = True
                    await _relay(answer, send)
                return
            except UpstreamUnavailable:
                if body.started:
                    raise
                # Nothing was sent, so a retry is safe: the service is (re)starting.
                if loop.time() > deadline:
                    await _send(send, error(503, "service_unavailable", f"{name} is unavailable; retry shortly"))
                    return
                await asyncio.sleep(0.2)
    except _ClientGone:
        return  # the service's connection was closed mid-body: the service saw the body break off
    except _BodyTimedOut:
        await _send(send, error(408, "request_timeout", "the request body did not arrive in time"), close=True)
    except TimeoutError:
        if not answering:
            await _send(send, error(504, "gateway_timeout", f"{name} did not answer in time"))
    except (UpstreamBroken, OSError):
        # Once the answer has begun, returning with it unfinished makes the server cut the client off.
        if not answering:
            await _send(send, error(502, "bad_gateway", f"{name} could not be asked this request"))


async def _relay(answer: StreamedAnswer, send: Send) -> None:
    """The service's answer to the client, chunk by chunk; with the service's length, if it gave one.

    An answer that comes before the body has all been sent (the service closed the connection) leaves the client's
    connection open: the server reads the rest of the body and drops it, and the client gets to read the answer
    (closing on unread bytes would reset the connection, and the answer might be lost with it)."""
    out = [(k, v) for k, v in answer.headers if k.lower() not in RESPONSE_DROPPED]
    out += [(k, v) for k, v in answer.headers if k.lower() == b"content-length"]
    await send({"type": "http.response.start", "status": answer.status, "headers": out})
    async for chunk in answer.body:
        async with asyncio.timeout(SEND_IDLE_SECONDS):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body; None when the client went away before sending it all (then nothing is forwarded).
    TimeoutError when it stalls for BODY_IDLE_SECONDS, or is not all there within BODY_TIMEOUT_SECONDS."""
    chunks: list[bytes] = []
    async with asyncio.timeout(BODY_TIMEOUT_SECONDS):
        while True:
            async with asyncio.timeout(BODY_IDLE_SECONDS):
                message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)


async def _send(send: Send, response: StarletteResponse, *, close: bool = False) -> None:
    headers = [*response.raw_headers, (b"connection", b"close")] if close else response.raw_headers
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def _forwarded_for(scope: Scope) -> str:
    """X-Forwarded-For as received (every line, in order) with the peer appended: the services trust it from here."""
    lines = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
    hops = [hop.strip() for line in lines for hop in line.split(",")]
    hops = [hop for hop in hops if hop]
    client = scope.get("client")
    hops.append(client[0] if client else "unknown")
    return ", ".join(hops)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")
