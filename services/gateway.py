"""The one base URL: routes each request by path prefix to its service, and serves the merged docs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from services.openapi_merge import merge_openapi
from shared.errors import ApiError
from shared.http.errors import install_error_handlers
from shared.http.limits import BodyLimitMiddleware

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
FORWARDING = HOP_BY_HOP | {"x-forwarded-for"}
CONNECT_RETRY_SECONDS = 10.0
GATEWAY_MAX_BODY_BYTES = 16 * 1024 * 1024
"""The gateway buffers a body before it forwards it, so it refuses one over this (413) instead of holding any size.
Each service applies its own, tighter limit."""
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


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(ApiError(status, code, message).body(), status_code=status)


def create_gateway(
    upstreams: Sequence[Upstream], version: str = "1.0.0", max_body_bytes: int = GATEWAY_MAX_BODY_BYTES
) -> FastAPI:
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=2.0),
        limits=httpx.Limits(max_connections=512, max_keepalive_connections=128),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.aclose()

    app = FastAPI(title="Simpul gateway", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)
    ordered = sorted(upstreams, key=lambda u: len(u.prefix), reverse=True)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        docs: dict[str, dict[str, Any]] = {}
        for u in upstreams:
            try:
                docs[u.name] = (await client.get(f"{u.base_url}/openapi.json")).json()
            except (httpx.HTTPError, ValueError):
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
                r = await client.get(f"{u.base_url}/readyz", timeout=3.0)
                return u.name, "ok" if r.status_code == 200 else f"unavailable ({r.status_code})"
            except httpx.HTTPError as exc:
                return u.name, f"down: {type(exc).__name__}"

        checks = dict(await asyncio.gather(*(check(u) for u in upstreams)))
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "service": "gateway", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def proxy(request: Request, path: str) -> Response:
        target = next((u for u in ordered if _under(request.url.path, u.prefix)), None)
        if target is None:
            return _error(404, "not_found", "no such endpoint; see /docs")
        # Forward the path as received (still percent-encoded), so the service judges it, not the gateway.
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        url = f"{target.base_url}{raw_path.decode('latin-1')}"
        if request.url.query:
            url = f"{url}?{request.url.query}"
        headers = [(k, v) for k, v in request.headers.raw if k.decode("latin-1").lower() not in FORWARDING]
        headers.append((b"x-forwarded-for", _forwarded_for(request).encode("latin-1")))
        body = await request.body()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONNECT_RETRY_SECONDS
        while True:
            try:
                upstream = await client.request(request.method, url, content=body, headers=headers)
                break
            except httpx.ConnectError:
                # Nothing was sent, so a retry is safe: the service is (re)starting.
                if loop.time() > deadline:
                    return _error(503, "service_unavailable", f"{target.name} is unavailable; retry shortly")
                await asyncio.sleep(0.2)
            except (httpx.HTTPError, httpx.InvalidURL, UnicodeError, ValueError):
                return _error(502, "bad_gateway", f"{target.name} could not be asked this request")
        out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
        out_headers.pop("content-encoding", None)
        return Response(content=upstream.content, status_code=upstream.status_code, headers=out_headers)

    return app


def _forwarded_for(request: Request) -> str:
    """X-Forwarded-For as received (every line, in order) with the peer appended: the services trust it from here."""
    hops = [hop.strip() for line in request.headers.getlist("x-forwarded-for") for hop in line.split(",")]
    hops = [hop for hop in hops if hop]
    hops.append(request.client.host if request.client else "unknown")
    return ", ".join(hops)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")
