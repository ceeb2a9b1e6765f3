"""deploy/compose/nginx/nginx.conf served by a real nginx on loopback, with each upstream it names (the four services,
the gateway, the portal) a small echo of its own: every API prefix reaches its service, the docs and health the
gateway, every other path the portal (a large form streamed whole), an unknown API path the API's 404, and the
portal's refusals are pages. Skipped where nginx is not installed (CI installs Debian's nginx-light)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.ports import free_port
from services.registry import SERVICES
from tests.services.gateway_peers import upstream

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "deploy/compose/nginx/nginx.conf"
UPSTREAMS = (*(s.name for s in SERVICES), "gateway", "web")
MIB = 1024 * 1024


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("nginx is missing in CI: .ci/run installs Debian's nginx-light")
    pytest.skip("nginx is not installed (apt-get install nginx-light)")


def echo(name: str) -> Starlette:
    async def answer(request: Request) -> JSONResponse:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        forwarded = request.headers.get("x-forwarded-for", "")
        return JSONResponse({"upstream": name, "path": request.url.path, "size": size, "x-forwarded-for": forwarded})

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


def local_conf(text: str, port: int, urls: dict[str, str], folder: Path) -> str:
    """The compose config with its listen port, its upstreams (by address: no resolver needed) and its files here."""
    for name in UPSTREAMS:
        text, found = re.subn(rf"set \${name} http://{name}:8000;", f"set ${name} {urls[name]};", text)
        assert found == 1, f"the config names no upstream {name}"
    (folder / "unlimited.conf").write_text("")
    replaced = {
        "listen 8080;": f"listen 127.0.0.1:{port};",
        "pid /tmp/nginx.pid;": f"pid {folder}/nginx.pid;",
        "access_log /dev/stdout;": "access_log off;",
        "error_log /dev/stderr warn;": f"error_log {folder}/error.log warn;",
        "include /etc/nginx/simpul-unlimited.conf;": f"include {folder}/unlimited.conf;",
    }
    for old, new in replaced.items():
        assert old in text, old
        text = text.replace(old, new)
    return re.sub(r"\n\s*resolver [^;]+;", "", text)


@contextmanager
def nginx(urls: dict[str, str], folder: Path) -> Iterator[str]:
    binary = nginx_binary()
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)  # run as root, nginx's workers are `nobody`: they read the config and write temp files
    (folder / "nginx.conf").write_text(local_conf(CONF.read_text(), port, urls, folder))
    argv = [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"]
    checked = subprocess.run([*argv[:-2], "-t"], capture_output=True, text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stderr
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "nginx stopped"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@asynccontextmanager
async def echoes() -> AsyncIterator[dict[str, str]]:
    async with AsyncExitStack() as stack:
        yield {name: await stack.enter_async_context(upstream(echo(name))) for name in UPSTREAMS}


async def test_each_path_reaches_its_upstream_and_an_unknown_api_path_is_the_apis_404(tmp_path: Path) -> None:
    async with echoes() as urls:
        with nginx(urls, tmp_path / "nginx") as base:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:

                async def reached(path: str) -> str:
                    answer = await client.get(path)
                    assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text[:200]}"
                    body = answer.json()
                    assert body["path"] == path
                    return str(body["upstream"])

                for spec in SERVICES:
                    for prefix in spec.api_prefixes:
                        assert await reached(prefix) == spec.name
                        assert await reached(f"{prefix}/x/y") == spec.name
                for path in ("/docs", "/openapi.json", "/healthz", "/readyz"):
                    assert await reached(path) == "gateway"
                for path in ("/", "/report", "/track/SPL-1/attachments", "/static/portal.css", "/docsx", "/apis"):
                    assert await reached(path) == "web"
                for path in ("/api", "/api/", "/api/v1/nothing", "/api/v1/complaintsx"):
                    unknown = await client.get(path)
                    assert unknown.status_code == 404, path
                    assert unknown.json()["error"]["code"] == "not_found", path
                assert (await client.get("/proxy-healthz")).json()["service"] == "proxy"

                start = (await client.get("/", headers={"X-Forwarded-For": "198.51.100.7"})).json()
                assert start["x-forwarded-for"] == "198.51.100.7, 127.0.0.1", "the citizen, then who nginx saw"


async def test_the_portal_takes_a_report_with_its_files_and_nginx_refuses_a_larger_one_with_a_page(
    tmp_path: Path,
) -> None:
    async with echoes() as urls:
        with nginx(urls, tmp_path / "nginx") as base:
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                form = await client.post("/report", content=b"x" * (30 * MIB))
                assert form.status_code == 200 and form.json() == {
                    "upstream": "web",
                    "path": "/report",
                    "size": 30 * MIB,
                    "x-forwarded-for": "127.0.0.1",
                }
                api = await client.post("/api/v1/notify/x", content=b"x" * (2 * MIB))
                assert api.status_code == 413 and api.json()["error"]["code"] == "payload_too_large"
            # Refused by its Content-Length, before a byte of the body is read.
            host, port = base.removeprefix("http://").split(":")
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(
                b"POST /report HTTP/1.1\r\nHost: simpul\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                + f"Content-Length: {60 * MIB}\r\n\r\n".encode()
            )
            await writer.drain()
            head = (await reader.read(65536)).decode()
            writer.close()
            assert head.startswith("HTTP/1.1 413"), head[:200]
            assert "text/html" in head and "Kiriman terlalu besar" in head and "Too large to send" in head


async def test_a_portal_that_is_down_answers_a_page_and_the_api_stays_json(tmp_path: Path) -> None:
    async with echoes() as urls:
        with nginx({**urls, "web": f"http://127.0.0.1:{free_port()}"}, tmp_path / "nginx") as base:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                page = await client.get("/report")
                assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
                assert "Layanan sedang tidak tersedia" in page.text and page.headers["retry-after"] == "5"
                assert (await client.get("/api/v1/complaints")).json()["upstream"] == "intake"
