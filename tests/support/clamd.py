"""A real clamd (Debian's clamav-daemon) for tests: its own config, socket and one-signature database in a temp dir.

There is no signature download: the database is one `.hdb` line, the MD5 hash and size of the EICAR test file, so
clamd starts in well under a second and finds exactly that file. A system clamd or freshclam, if any, is left alone.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.ports import free_port

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_SIGNATURE = "Eicar-Test-Signature"
NOT_INSTALLED = (
    "clamd is not installed (Debian: apt-get install clamav-daemon); the scan tests need a real ClamAV daemon"
)
START_TIMEOUT = 60.0
BIND_ATTEMPTS = 5
SOCKET_PATH_MAX = 100
"""A unix socket path must fit in sockaddr_un (108 bytes on Linux); a longer temp dir gets a short one for it."""


def clamd_binary() -> str | None:
    found = shutil.which("clamd")
    if found:
        return found
    return "/usr/sbin/clamd" if Path("/usr/sbin/clamd").is_file() else None


@dataclass(frozen=True)
class RunningClamd:
    """A clamd started by `start_clamd`: its unix socket, its loopback TCP port if asked for, its PID."""

    socket_path: Path
    tcp_port: int | None
    pid: int
    directory: Path

    @property
    def unix_url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def tcp_url(self) -> str:
        assert self.tcp_port is not None, "this clamd was started without tcp=True"
        return f"tcp://127.0.0.1:{self.tcp_port}"


def eicar_database_line() -> str:
    return f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:{EICAR_SIGNATURE}\n"


def ping(socket_path: Path, tcp_port: int | None = None, timeout: float = 1.0) -> bool:
    """clamd answers PING on its unix socket, or on 127.0.0.1:`tcp_port` when given."""
    try:
        if tcp_port is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(str(socket_path))
        else:
            sock = socket.create_connection(("127.0.0.1", tcp_port), timeout=timeout)
        with sock:
            sock.sendall(b"zPING\0")
            return sock.recv(16) == b"PONG\0"
    except OSError:
        return False


@contextmanager
def start_clamd(
    directory: Path, *, stream_max_length: str = "20M", tcp: bool = False, timeout: float = START_TIMEOUT
) -> Iterator[RunningClamd]:
    """clamd in the foreground with its files under `directory`, answering PING; stopped (its PID only) on exit.

    Skips the test when clamd is not installed."""
    binary = clamd_binary()
    if binary is None:
        pytest.skip(NOT_INSTALLED)
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "db"
    database.mkdir(exist_ok=True)
    (database / "eicar.hdb").write_text(eicar_database_line())
    socket_dir = directory
    short_dir: Path | None = None
    if len(str(directory / "clamd.sock")) > SOCKET_PATH_MAX:
        short_dir = socket_dir = Path(tempfile.mkdtemp(prefix="clamd-"))
    socket_path = socket_dir / "clamd.sock"
    try:
        for attempt in range(BIND_ATTEMPTS):
            port = free_port() if tcp else None
            process = _launch(binary, directory, socket_path, database, stream_max_length, port)
            try:
                _wait_ready(process, socket_path, port, directory, timeout)
            except _LostPortRace:
                _stop(process)
                if attempt == BIND_ATTEMPTS - 1:
                    raise
                continue
            except BaseException:
                _stop(process)
                raise
            try:
                yield RunningClamd(socket_path=socket_path, tcp_port=port, pid=process.pid, directory=directory)
            finally:
                _stop(process)
            return
    finally:
        if short_dir is not None:
            shutil.rmtree(short_dir, ignore_errors=True)


class _LostPortRace(RuntimeError):
    """Another process bound the free TCP port between picking it and clamd binding it."""


def _launch(
    binary: str, directory: Path, socket_path: Path, database: Path, stream_max_length: str, port: int | None
) -> subprocess.Popen[bytes]:
    lines = [
        "Foreground yes",
        f"LocalSocket {socket_path}",
        f"DatabaseDirectory {database}",
        f"LogFile {directory / 'clamd.log'}",
        f"PidFile {directory / 'clamd.pid'}",
        f"StreamMaxLength {stream_max_length}",
        "SelfCheck 0",  # no reloading of the database in the background
    ]
    if port is not None:
        lines += [f"TCPSocket {port}", "TCPAddr 127.0.0.1"]
    config = directory / "clamd.conf"
    config.write_text("\n".join(lines) + "\n")
    (directory / "clamd.log").unlink(missing_ok=True)
    with (directory / "clamd.out").open("wb") as out:
        return subprocess.Popen([binary, "--config-file", str(config)], stdout=out, stderr=subprocess.STDOUT)


def _wait_ready(
    process: subprocess.Popen[bytes], socket_path: Path, port: int | None, directory: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = (directory / "clamd.out").read_text(errors="replace")
        if process.poll() is not None:
            raise RuntimeError(f"clamd exited with {process.returncode}:\n{output[-4000:]}")
        if port is not None and "Cannot bind" in output:  # clamd logs it and serves on the unix socket alone
            raise _LostPortRace(output.splitlines()[0])
        if ping(socket_path) and (port is None or ping(socket_path, port)):
            return
        time.sleep(0.05)
    raise TimeoutError(f"clamd did not answer PING within {timeout:g} s; see {directory}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
