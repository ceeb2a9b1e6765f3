"""Runs `simpul up` as real processes for end-to-end tests, and talks to it over HTTP only."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.ports import free_port
from services.state import read_state
from tests.support.apps import ADMIN_KEY


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

    def service_pid(self, name: str) -> int:
        return int(self.state()["services"][name]["pid"])

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def running_hub(
    data_dir: Path, *, postgres: str | None = None, schema_prefix: str = "", admin_key: str | None = ADMIN_KEY
) -> Iterator[Hub]:
    port = free_port()
    argv = [sys.executable, "-m", "services.cli", "up", "--port", str(port), "--data-dir", str(data_dir)]
    if postgres:
        argv += ["--postgres", postgres, "--schema-prefix", schema_prefix]
    env = _clean_env()
    if admin_key:
        env["SIMPUL_BOOTSTRAP_ADMIN_KEY"] = admin_key
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "simpul-up.out"
    with log_path.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    hub = Hub(base_url=f"http://127.0.0.1:{port}", data_dir=data_dir, process=proc, log_path=log_path)
    try:
        _wait_ready(hub, timeout=90)
        yield hub
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(hub: Hub, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            raise RuntimeError(f"simpul up exited with {hub.process.returncode}:\n{hub.output()}")
        try:
            if httpx.get(f"{hub.base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the hub was not ready after {timeout}s:\n{hub.output()}")


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
