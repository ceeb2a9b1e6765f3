"""A private PostgreSQL server for the tests that stop and start the database.

Never the machine's own server: a fresh cluster (initdb) in a temporary folder, on a free loopback port, made from
the binaries of the PostgreSQL installed here (/usr/lib/postgresql/<version>/bin). initdb refuses to run as root,
so as root the cluster belongs to the `postgres` OS user and runs under `runuser`. It is stopped and started by the
PID in its own postmaster.pid, and by nothing else.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.ports import free_port

BIN_GLOB = "/usr/lib/postgresql/*/bin"


def _bin_dir() -> Path | None:
    found = sorted(
        Path("/").glob(BIN_GLOB.lstrip("/")), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0
    )
    found = [p for p in found if (p / "initdb").exists() and (p / "postgres").exists()]
    return found[-1] if found else None


def unavailable_reason() -> str | None:
    """Why no private server can be made here, or None when one can."""
    if _bin_dir() is None:
        return f"no PostgreSQL binaries under {BIN_GLOB}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root (initdb refuses it) and there is no `postgres` OS user to run it as"
        if shutil.which("runuser") is None:
            return "running as root and `runuser` is missing"
    return None


@dataclass
class PrivatePostgres:
    root: Path
    bin_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    starts: int = 0

    @classmethod
    def create(cls) -> PrivatePostgres:
        reason = unavailable_reason()
        if reason is not None:
            raise RuntimeError(reason)
        bin_dir = _bin_dir()
        assert bin_dir is not None
        root = Path(tempfile.mkdtemp(prefix="simpul-pg-"))
        server = cls(root=root, bin_dir=bin_dir, port=free_port())
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        server._run(
            [str(bin_dir / "initdb"), "-D", str(server.data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
            + ["--no-sync", "--no-instructions"],
        )
        return server

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _as_owner(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def _run(self, argv: list[str]) -> None:
        subprocess.run(self._as_owner(argv), check=True, capture_output=True, timeout=120)

    def start(self, timeout: float = 30.0) -> None:
        log = (self.root / "postgres.log").open("ab")
        argv = [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.root}",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=300",
        ]
        with log:
            self.process = subprocess.Popen(self._as_owner(argv), stdout=log, stderr=log)  # noqa: S603
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}; see {self.root}/postgres.log")
            if self.accepting():
                return
            time.sleep(0.05)
        raise TimeoutError(f"the private postgres was not ready after {timeout}s")

    def accepting(self) -> bool:
        ready = subprocess.run(
            [str(self.bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-t", "1"],
            check=False,
            timeout=10,
        )
        return ready.returncode == 0

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT to our postmaster, by its PID): open sessions are ended, as when a server stops."""
        pid = self.postmaster_pid()
        if self.process is None or self.process.poll() is not None or pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGQUIT)
            self.process.wait(10)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
