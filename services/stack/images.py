"""`make images`: every image the compose stack runs, built with no registry and no package index in the build.

The hub's image installs the locked wheels from var/wheelhouse/, which the host's pip fills first. The other images
(a Python base, PostgreSQL, nginx, NATS) are the registry's when the daemon already holds them, or when
SIMPUL_IMAGES_FROM=registry; otherwise deploy/images/ builds stand-ins from Debian's packages.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from services.stack.docker import Progress, ensure_debootstrap, image_exists, run_checked

REPO = Path(__file__).resolve().parents[2]
WHEELHOUSE = REPO / "var/wheelhouse"
LOCK = REPO / "requirements.lock"
IMAGE_PYTHON = "3.11"
"""The CPython of both bases: the registry's python:3.11 and Debian bookworm's python3."""
GLIBC_MINOR = 36
"""Debian bookworm's glibc 2.36: the newest manylinux the wheels may need."""

REGISTRY_IMAGES = {
    "python": "python:3.11-slim-bookworm",
    "postgres": "postgres:17-alpine",
    "nginx": "nginx:1.28-alpine",
    "nats": "nats:2.15-alpine",
}
ENV_OF = {
    "python": "SIMPUL_PYTHON_IMAGE",
    "postgres": "SIMPUL_POSTGRES_IMAGE",
    "nginx": "SIMPUL_NGINX_IMAGE",
    "nats": "SIMPUL_NATS_IMAGE",
}
SOURCES = ("auto", "registry", "debian")


@dataclass(frozen=True)
class Images:
    hub: str
    bases: dict[str, str]

    def env(self) -> dict[str, str]:
        """The compose file's image variables."""
        return {"SIMPUL_IMAGE": self.hub, **{ENV_OF[role]: tag for role, tag in self.bases.items()}}


def build_all(progress: Progress) -> Images:
    """The wheelhouse, the bases and the hub's image; each step says what it did and how long it took."""
    bases = choose_bases(progress)
    fill_wheelhouse(progress)
    hub = os.environ.get("SIMPUL_IMAGE") or "simpul:local"
    build_hub_image(hub, bases["python"], progress)
    return Images(hub, bases)


def choose_bases(progress: Progress) -> dict[str, str]:
    """Each base from SIMPUL_<ROLE>_IMAGE, else the registry's (held here or asked for), else a Debian stand-in."""
    source = os.environ.get("SIMPUL_IMAGES_FROM", "auto")
    if source not in SOURCES:
        raise RuntimeError(f"SIMPUL_IMAGES_FROM={source!r}: use one of {', '.join(SOURCES)}")
    chosen: dict[str, str] = {}
    wanted: list[str] = []
    for role, registry_image in REGISTRY_IMAGES.items():
        if given := os.environ.get(ENV_OF[role]):
            chosen[role] = given
        elif source == "registry" or (source == "auto" and image_exists(registry_image)):
            chosen[role] = registry_image
        else:
            wanted.append(role)
    for role, tag in chosen.items():
        progress(f"{role}: {tag}")
    if wanted:
        from services.standin_images import build_standins

        if os.geteuid() != 0:
            raise RuntimeError(
                f"no {', '.join(REGISTRY_IMAGES[r] for r in wanted)} here, and building Debian stand-ins needs root:"
                " run as root, or set SIMPUL_IMAGES_FROM=registry where the registry can be reached"
            )
        ensure_debootstrap(progress)
        progress(f"building stand-ins from Debian's packages: {', '.join(wanted)}")
        chosen.update(build_standins(wanted, progress))
    return chosen


def locked_pins(lock_text: str) -> set[str]:
    """`name-version` of every package the lock pins, in the form wheel file names use."""
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", lock_text, flags=re.MULTILINE)
    return {f"{_wheel_name(name)}-{version}" for name, version in pins}


def _wheel_name(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def manylinux_tags(machine: str) -> list[str]:
    """Every manylinux tag a glibc 2.36 system runs, newest first (pip does not widen --platform by itself)."""
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(GLIBC_MINOR, 16, -1)]
    legacy = ["manylinux2014", "manylinux2010", "manylinux1"] if machine in ("x86_64", "i686") else ["manylinux2014"]
    return tags + [f"{name}_{machine}" for name in legacy]


def fill_wheelhouse(progress: Progress, wheelhouse: Path = WHEELHOUSE) -> None:
    """Download the locked wheels for the image's platform (pip's cache makes a second run quick); drop stale ones."""
    started = time.monotonic()
    wheelhouse.mkdir(parents=True, exist_ok=True)
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
    progress(f"wheelhouse: the locked wheels for CPython {IMAGE_PYTHON} on manylinux {machine} into {wheelhouse}")
    argv = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--require-hashes",
        "--no-deps",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        IMAGE_PYTHON,
        *(arg for tag in manylinux_tags(machine) for arg in ("--platform", tag)),
        "--dest",
        str(wheelhouse),
        # Wheels already here count: with PIP_NO_INDEX=1, pip takes them alone (a wheelhouse carried in by hand).
        "--find-links",
        str(wheelhouse),
        "--requirement",
        str(LOCK),
    ]
    run_checked(argv, "downloading the wheelhouse")
    pins = locked_pins(LOCK.read_text())
    kept = 0
    for wheel in wheelhouse.glob("*.whl"):
        name, version = wheel.name.split("-")[:2]
        if f"{_wheel_name(name)}-{version}" in pins:
            kept += 1
        else:
            wheel.unlink()
    progress(f"wheelhouse: {kept} wheels ({time.monotonic() - started:.0f}s)")


def build_hub_image(tag: str, python_image: str, progress: Progress) -> None:
    """deploy/Dockerfile with the classic builder (BuildKit would fetch its front end from a registry)."""
    started = time.monotonic()
    progress(f"hub image {tag} on {python_image}")
    # No network in the build: the wheelhouse holds everything it installs.
    argv = ["docker", "build", "--network=none", "-f", "deploy/Dockerfile"]
    argv += ["--build-arg", f"PYTHON_IMAGE={python_image}", "-t", tag, "."]
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    lines: list[str] = []
    with subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            if line.startswith("Step "):
                progress(f"  {line.rstrip()[:110]}  ({time.monotonic() - started:.0f}s)")
    if proc.returncode != 0:
        raise RuntimeError("building the hub's image failed:\n" + "\n".join(lines[-20:]))
    progress(f"hub image {tag} built ({time.monotonic() - started:.0f}s)")


def write_env(images: Images, path: Path) -> None:
    """The image variables, for the stack's env file and for an operator's .env."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{name}={value}\n" for name, value in images.env().items()))
