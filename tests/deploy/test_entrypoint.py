"""The image's entry point (deploy/docker-entrypoint.sh), run here with this checkout's Python: its roles migrate,
probe and refuse as the compose file and the Kubernetes manifests rely on. The image itself is not built here."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.gateway_serve import upstreams_from_env
from services.ports import free_port
from services.registry import SERVICES
from tests.support.databases import TestDatabase

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "deploy/docker-entrypoint.sh"


def entrypoint(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The entry point as the image runs it: `python` is this interpreter, the code is this checkout."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    base["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"
    base["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *argv], env={**base, **(env or {})}, capture_output=True, text=True, timeout=60
    )


async def test_migrate_applies_one_services_migrations(database: TestDatabase) -> None:
    done = entrypoint(
        "migrate",
        "agency",
        env={"SIMPUL_AGENCY_DATABASE_URL": database.url, "SIMPUL_AGENCY_DATABASE_SCHEMA": database.schema or ""},
    )
    assert done.returncode == 0, done.stderr
    table = f'"{database.schema}".alembic_version' if database.schema else "alembic_version"
    engine = create_async_engine(database.url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text(f"SELECT version_num FROM {table}"))).scalar_one()
    finally:
        await engine.dispose()


def test_unknown_services_and_missing_arguments_are_refused() -> None:
    refused = entrypoint("migrate", "billing")
    assert refused.returncode == 64
    assert "unknown service 'billing'" in refused.stderr
    assert entrypoint("migrate").returncode == 64
    helped = entrypoint("help")
    assert helped.returncode == 0
    roles = ("intake", "gateway", "web", "email-door", "migrate-all", "streams", "probe")
    assert all(role in helped.stdout for role in roles)


def test_the_email_door_will_not_start_without_its_channel_key() -> None:
    refused = entrypoint("email-door", env={"SIMPUL_EMAIL_API_KEY": ""})
    assert refused.returncode == 64
    assert "SIMPUL_EMAIL_API_KEY is empty" in refused.stderr and '"role": "channel"' in refused.stderr


def test_the_web_role_serves_the_portal_which_is_alive_but_not_ready_without_its_api(tmp_path: Path) -> None:
    port = str(free_port())
    env = {
        "SIMPUL_WEB_PORT": port,
        "SIMPUL_WEB_SECRET": "entrypoint-test-secret-0123456789abcdef",
        "SIMPUL_WEB_API_BASE_URL": f"http://127.0.0.1:{free_port()}",
    }
    base = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    base["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"
    base["PYTHONPATH"] = str(REPO)
    log = (tmp_path / "web.log").open("wb")
    proc = subprocess.Popen(["sh", str(ENTRYPOINT), "web"], env={**base, **env}, stdout=log, stderr=log)
    try:
        while entrypoint("probe", port, "/healthz").returncode != 0:
            assert proc.poll() is None, (tmp_path / "web.log").read_text()
        assert entrypoint("probe", port, "/healthz", "/readyz").returncode != 0, "not ready: its API does not answer"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response({"/healthz": 200, "/readyz": 503}.get(self.path, 404))
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


def test_probe_passes_only_when_every_path_answers(health_server: int) -> None:
    port = str(health_server)
    assert entrypoint("probe", port, "/healthz").returncode == 0
    assert entrypoint("probe", port, "/healthz", "/readyz").returncode != 0  # alive but not ready
    assert entrypoint("probe", port).returncode == 64


def test_the_gateway_finds_each_service_by_its_compose_name_unless_told() -> None:
    upstreams = upstreams_from_env({"SIMPUL_GATEWAY_NOTIFY_URL": "http://simpul-notify"})
    assert [(u.name, u.prefixes) for u in upstreams] == [(s.name, s.api_prefixes) for s in SERVICES]
    urls = {u.name: u.base_url for u in upstreams}
    assert urls == {
        "intake": "http://intake:8000",
        "routing": "http://routing:8000",
        "agency": "http://agency:8000",
        "notify": "http://simpul-notify",
    }
