"""The one base URL: routes each request by path prefix to its service, and serves the merged docs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from services.openapi_merge import merge_openapi
from services.upstream import Answer, UpstreamBroken, UpstreamPool, UpstreamUnavailable
from shared.errors import ApiError
from shared.http.errors import install_error_handlers
from shared.http.limits import DEFAULT_MAX_BODY_BYTES, BodyLimitMiddleware

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
SITE_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"]
"""What a path that is neither the gateway's own nor a service's is answered 404 to (whatever the method)."""
CONNECT_RETRY_SECONDS = 10.0
BODY_IDLE_SECONDS = 10.0
"""A body that sends nothing for this long is answered 408: the head's deadline (gateway_http) has passed by then."""
BODY_TIMEOUT_SECONDS = 120.0
"""The whole body must arrive within this, however it trickles (at the service's limit, from a slow mobile link)."""
DESCRIPTION = (
    "Simpul: a coordination hub for complaints about public services (SP4N-LAPOR! style). "
    "Reporters and channels use `/api/v1/complaints`; hub coordinators `/api/v1/hub`; agency systems "
    "`/api/v1/agency`; the delivery log is under `/api/v1/notify`. Keys travel as `Authorization: Bearer <key>`."
)


@dataclass(frozen=True)
class Upstream:
    name: str
    prefix: str
    base_url: str
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    """The service's own limit: the gateway buffers a body before it forwards it, so it refuses (with the service's
    413) what the service would refuse, before reading more of it than the service would."""


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(ApiError(status, code, message).body(), status_code=status)


def create_gateway(upstreams: Sequence[Upstream], version: str = "1.0.0") -> ASGIApp:
    """The API paths go straight to their service through a lean ASGI proxy; the rest (docs, health) to FastAPI."""
    ordered = sorted(upstreams, key=lambda u: len(u.prefix), reverse=True)
    pools = {u.name: _pool(u.base_url) for u in upstreams}
    proxies = {u.name: BodyLimitMiddleware(_proxy(pools[u.name], u.name), u.max_body_bytes) for u in upstreams}
    site = BodyLimitMiddleware(_site(upstreams, pools, version))

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            target = next((u for u in ordered if _under(scope["path"], u.prefix)), None)
            # Every method: the service answers one its path does not take with 405 and the path's own Allow.
            if target is not None:
                await proxies[target.name](scope, receive, send)
                return
        await site(scope, receive, send)

    return gateway


def service_body_limit(env_prefix: str, environ: Mapping[str, str]) -> int:
    """A service's body limit as it reads it from its environment (`<prefix>MAX_BODY_BYTES`), else the default."""
    value = environ.get(f"{env_prefix}MAX_BODY_BYTES", "")
    return int(value) if value.strip().isdigit() else DEFAULT_MAX_BODY_BYTES


def _pool(base_url: str) -> UpstreamPool:
    url = httpx.URL(base_url)
    return UpstreamPool(url.host, url.port or 80, connect_timeout=2.0, timeout=30.0)


def _site(upstreams: Sequence[Upstream], pools: dict[str, UpstreamPool], version: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            for pool in pools.values():
                await pool.close()

    app = FastAPI(title="Simpul gateway", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    install_error_handlers(app)

    async def get(u: Upstream, path: bytes, timeout: float) -> Answer:
        async with asyncio.timeout(timeout):
            return await pools[u.name].request("GET", path, [], b"")

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
        async def check(u: Upstream) -> tuple[str, str]:
            try:
                answer = await get(u, b"/readyz", 3.0)
            except (ConnectionError, OSError, TimeoutError) as exc:
                return u.name, f"down: {type(exc).__name__}"
            return u.name, "ok" if answer.status == 200 else f"unavailable ({answer.status})"

        checks = dict(await asyncio.gather(*(check(u) for u in upstreams)))
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
        await _forward(pool, name, scope, receive, send)

    return proxy


async def _forward(pool: UpstreamPool, name: str, scope: Scope, receive: Receive, send: Send) -> None:
    # Forward the path as received (still percent-encoded), so the service judges it, not the gateway.
    target = scope.get("raw_path") or scope["path"].encode()
    if scope.get("query_string"):
        target = target + b"?" + scope["query_string"]
    headers = [(k, v) for k, v in scope["headers"] if k not in FORWARDING]
    headers.append((b"x-forwarded-for", _forwarded_for(scope).encode("latin-1")))
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


async def _send(send: Send, response: JSONResponse, *, close: bool = False) -> None:
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
