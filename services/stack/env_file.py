"""The stack's env file (var/stack/.env): every secret made once by gen-env.sh, then the images, port and admin key."""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from shared.crypto import hash_secret

REPO = Path(__file__).resolve().parents[2]
GEN_ENV = REPO / "deploy/compose/gen-env.sh"
ADMIN_KEY_RE = re.compile(r"sk_admin_[A-Za-z0-9_-]{43}")
MIN_ADMIN_KEY = 32


@dataclass(frozen=True)
class StackEnv:
    path: Path
    admin_key: str | None
    """The admin key when this run made it or was given it; None when it was made earlier (see `key_file`)."""
    key_file: Path
    new_key: bool
    fresh: bool
    """Whether the secrets were made by this run."""


def read_env(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file, comments and blanks skipped."""
    return read_env_text(path.read_text())


def read_env_text(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def edge_gateway(subnet: str) -> str:
    """The edge network's gateway: where Docker's port forwarding makes every client on this host come from."""
    return str(next(ipaddress.ip_network(subnet).hosts()))


def prepare(state: Path, overrides: dict[str, str]) -> StackEnv:
    """Make the secrets on the first run (kept until `stack-down`), then set `overrides` and the admin key's hash."""
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    path, key_file = state / ".env", state / "admin-key"
    made_key: str | None = None
    fresh = not path.exists()
    if fresh:
        done = subprocess.run(["sh", str(GEN_ENV)], capture_output=True, text=True, check=True, timeout=60)
        (made_key,) = ADMIN_KEY_RE.findall(done.stderr)
        _write_private(path, done.stdout)
    else:
        _add_new_secrets(path)
    given = os.environ.get("SIMPUL_BOOTSTRAP_ADMIN_KEY")
    if given and len(given) < MIN_ADMIN_KEY:
        raise ValueError(f"SIMPUL_BOOTSTRAP_ADMIN_KEY must be at least {MIN_ADMIN_KEY} characters")
    values = read_env(path)
    settings = dict(overrides)
    if given:
        settings["SIMPUL_BOOTSTRAP_ADMIN_KEY_HASH"] = hash_secret(given)
    elif made_key:
        _write_private(key_file, made_key + "\n")
    values.update(settings)
    text = "# The compose stack of `make stack`: secrets from gen-env.sh; removed by `make stack-down`.\n"
    _write_private(path, text + "".join(f"{k}={v}\n" for k, v in values.items()))
    new_key = made_key is not None and not given
    return StackEnv(path=path, admin_key=given or made_key, key_file=key_file, new_key=new_key, fresh=fresh)


def _add_new_secrets(path: Path) -> None:
    """The secrets gen-env.sh makes that an older stack's env lacks (a newer release's), each made once, as for a new
    stack; what the env has stays as its volumes were made with."""
    done = subprocess.run(["sh", str(GEN_ENV)], capture_output=True, text=True, check=True, timeout=60)
    have = read_env(path)
    missing = {k: v for k, v in read_env_text(done.stdout).items() if k not in have}
    if missing:
        _write_private(path, path.read_text() + "".join(f"{k}={v}\n" for k, v in missing.items()))


def admin_key(state: Path) -> str | None:
    """The key the stack's admin uses: SIMPUL_BOOTSTRAP_ADMIN_KEY, else the one `make stack` made."""
    if given := os.environ.get("SIMPUL_BOOTSTRAP_ADMIN_KEY"):
        return given
    key_file = state / "admin-key"
    return key_file.read_text().strip() if key_file.exists() else None


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file made earlier by hand keeps its mode otherwise
    with os.fdopen(fd, "w") as out:
        out.write(text)
