"""Runs `simpul up` as real processes for end-to-end tests, and talks to it over HTTP only."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.nats_users import OPS
from services.ports import free_port
from services.registry import BY_NAME
from services.secrets_store import key_env, stored_nats_password, stored_secrets
from services.state import read_state
from shared.bus import Bus
from tests.support.apps import ADMIN_KEY, auth
from tests.support.databases import postgres_env_url


@dataclass
class Hub:
    base_url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def state(self) -> dict:
        state = read_state(self.data_dir)
        assert state is not None, "the hub wrote no state file"
        return state

    def nats_password(self, user: str) -> str:
        """A broker user's password, from the secrets `simpul up` keeps in the data folder."""
        password = stored_nats_password(self.data_dir, user)
        assert password is not None, f"no NATS password for {user} in {self.data_dir}"
        return password

    def key_env(self, service: str) -> dict[str, str]:
        """A service's keys as `simpul up` gives them, for another process of that service."""
        secrets = stored_secrets(self.data_dir)
        assert secrets is not None, f"no secrets in {self.data_dir}"
        return key_env(BY_NAME[service], secrets)

    def ops_bus(self, name: str) -> Bus:
        """A Bus on the hub's nats-server as `ops`, who may read every stream (the services may not)."""
        return Bus(self.state()["nats"]["url"], name=name, user=OPS, password=self.nats_password(OPS))

    def service_pid(self, name: str) -> int:
        return int(self.state()["services"][name]["pid"])

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def running_hub(
    data_dir: Path,
    *,
    postgres: str | None = None,
    schema_prefix: str = "",
    admin_key: str | None = ADMIN_KEY,
    env: dict[str, str] | None = None,
) -> Iterator[Hub]:
    port = free_port()
    argv = [sys.executable, "-m", "services.cli", "up", "--port", str(port), "--data-dir", str(data_dir)]
    if postgres:
        argv += ["--postgres", postgres, "--schema-prefix", schema_prefix]
    extra_env = env
    env = _clean_env()
    if admin_key:
        env["SIMPUL_BOOTSTRAP_ADMIN_KEY"] = admin_key
    # Each hub's email door on a port of its own: hubs run side by side in tests.
    env["SIMPUL_EMAIL_SMTP_PORT"] = str(free_port())
    env.update(extra_env or {})
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "simpul-up.out"
    with log_path.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    hub = Hub(base_url=f"http://127.0.0.1:{port}", data_dir=data_dir, process=proc, log_path=log_path)
    try:
        _wait_ready(hub, timeout=90)
        yield hub
    finally:
        stop_process(proc, signal.SIGINT)


@contextlib.contextmanager
def hub_on(backend: str, data_dir: Path, prefix: str = "e2e", **kwargs: Any) -> Iterator[Hub]:
    """A whole hub on `backend` (sqlite, or postgres in schemas of its own, dropped afterwards)."""
    if backend != "postgres":
        with running_hub(data_dir, **kwargs) as hub:
            yield hub
        return
    schema_prefix = f"{prefix}_{uuid.uuid4().hex[:8]}_"
    try:
        with running_hub(data_dir, postgres=asyncpg_url(), schema_prefix=schema_prefix, **kwargs) as hub:
            yield hub
    finally:
        drop_schemas(schema_prefix)


def stop_process(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Ask a process we started to stop; kill it if it has not after 30 s."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


BANNER_END = "Press Ctrl-C to stop."
"""The last line of the banner that `simpul up` prints once everything answers."""


def _wait_ready(hub: Hub, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            raise RuntimeError(f"simpul up exited with {hub.process.returncode}:\n{hub.output()}")
        try:
            # Ready, and the banner (which `simpul up` prints once everything answers) is out in full.
            if httpx.get(f"{hub.base_url}/readyz", timeout=2).status_code == 200 and BANNER_END in hub.output():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the hub was not ready after {timeout}s:\n{hub.output()}")


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}


def asyncpg_url() -> str:
    url = postgres_env_url()
    assert url
    return url


def drop_schemas(prefix: str) -> None:
    async def drop() -> None:
        engine = create_async_engine(asyncpg_url())
        async with engine.begin() as conn:
            for name in ("intake", "routing", "agency", "notify"):
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{prefix}{name}" CASCADE'))
        await engine.dispose()

    asyncio.run(drop())


def wait_for(probe: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    last = probe()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
        time.sleep(interval)
        last = probe()
    return last


class HasBaseUrl(Protocol):
    @property
    def base_url(self) -> str: ...


class Api:
    def __init__(self, hub: HasBaseUrl, admin_key: str = ADMIN_KEY):
        self.client = httpx.Client(base_url=hub.base_url, timeout=30)
        self.admin = auth(admin_key)

    def ok(self, response: httpx.Response, status: int) -> Any:
        assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
        return response.json() if response.content else None

    def node(self, code: str, kind: str, parent: str | None = None, **extra: Any) -> dict:
        body = {"code": code, "name": f"Node {code}", "kind": kind, "parent_code": parent, "timezone": "WIB", **extra}
        return self.ok(self.client.post("/api/v1/hub/agencies", json=body, headers=self.admin), 201)

    def category(self, code: str, parent: str | None = None) -> dict:
        """Add a category to the hub's tree (a routing rule must name one it knows)."""
        body = {"code": code, "name": f"Kategori {code}", "name_en": f"Category {code}", "parent_code": parent}
        return self.ok(self.client.post("/api/v1/hub/categories", json=body, headers=self.admin), 201)

    def key(self, code: str) -> dict[str, str]:
        """Issue a node's key and wait until agency_svc's replica knows it (keys travel as events)."""
        issued = self.ok(self.client.post(f"/api/v1/hub/agencies/{code}/api-keys", json={}, headers=self.admin), 201)
        key = auth(issued["key"])
        wait_for(lambda: self.client.get("/api/v1/agency/complaints", headers=key).status_code == 200)
        return key

    def submit(self, **overrides: Any) -> dict:
        body = {
            "title": "Layanan kunjungan dipungut biaya",
            "content": "Petugas meminta uang untuk kunjungan keluarga.",
            "classification": "pengaduan",
            "category": "pemasyarakatan",
            "region_code": "3578",
            "reporter": {"name": "Siti Aminah", "email": "siti@example.test", "phone": "+62 812 0000 1111"},
        }
        body.update(overrides)
        return self.ok(self.client.post("/api/v1/complaints", json=body), 201)

    def inbox(self, key: dict[str, str]) -> list[str]:
        items: list[str] = []
        offset: int | None = 0
        while offset is not None:
            page = self.ok(self.client.get(f"/api/v1/agency/complaints?limit=200&offset={offset}", headers=key), 200)
            items += [c["tracking_id"] for c in page["items"]]
            offset = page["next_offset"]
        return items

    def reporter_view(self, receipt: dict) -> dict:
        headers = {"X-Receipt": receipt["receipt"]}
        return self.ok(self.client.get(f"/api/v1/complaints/{receipt['tracking_id']}", headers=headers), 200)
