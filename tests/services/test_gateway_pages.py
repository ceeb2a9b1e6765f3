"""The gateway sends the pages every path that is neither the API's nor its own, streamed, and a plain page when
the pages are down."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.gateway import Upstream, create_gateway, for_the_pages
from services.ports import free_port
from tests.services.gateway_peers import echo_upstream, serving, upstream


async def _page(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse(
        {"path": request.url.path, "size": len(body), "x-forwarded-for": request.headers.get("x-forwarded-for")}
    )


def test_which_paths_are_the_pages() -> None:
    for path in ("/", "/report", "/track/SPL-1/attachments/x", "/static/portal.css", "/apis", "/docsx"):
        assert for_the_pages(path), path
    for path in ("/api", "/api/", "/api/v1/nothing", "/docs", "/openapi.json", "/healthz", "/readyz"):
        assert not for_the_pages(path), path


async def test_the_pages_get_their_paths_and_large_forms_and_the_api_keeps_its_own() -> None:
    pages = Starlette(routes=[Route("/{path:path}", _page, methods=["GET", "POST"])])
    async with echo_upstream() as api_url, upstream(pages) as pages_url:
        gateway = create_gateway([Upstream("intake", ("/api/v1/complaints",), api_url)], web=pages_url)
        async with serving(gateway) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
            start = (await client.get("/", headers={"X-Forwarded-For": "198.51.100.7"})).json()
            assert start["path"] == "/" and start["size"] == 0
            # As for a service: what it received, and the peer the gateway saw, appended.
            assert start["x-forwarded-for"].split(", ")[0] == "198.51.100.7"
            assert len(start["x-forwarded-for"].split(", ")) == 2
            # A form with files is larger than any API body the gateway buffers: it streams to the pages whole.
            form = await client.post("/report", content=b"x" * (3 * 1024 * 1024))
            assert form.json()["size"] == 3 * 1024 * 1024
            assert (await client.get("/api/v1/complaints/echo")).json()["method"] == "GET"
            unknown = await client.get("/api/v1/unknown")
            assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
            assert (await client.get("/healthz")).json()["service"] == "gateway"


async def test_pages_that_are_down_answer_a_plain_page() -> None:
    gateway = create_gateway([], web=f"http://127.0.0.1:{free_port()}")
    async with serving(gateway) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
        answer = await client.get("/report")
        assert answer.status_code == 503 and answer.headers["content-type"].startswith("text/html")
        assert "Layanan sedang tidak tersedia" in answer.text and "not available" in answer.text
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["web"].startswith("down")
