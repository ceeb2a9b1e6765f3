"""The stack targets' own logic, without Docker: their env file, the wheelhouse's platform tags and pins, and the one
line they print where Docker cannot run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from services.stack import env_file
from services.stack.images import locked_pins, manylinux_tags
from shared.crypto import hash_secret

REPO = Path(__file__).resolve().parents[2]
needs_gen_env = pytest.mark.skipif(
    not (shutil.which("openssl") and shutil.which("sha256sum")), reason="gen-env.sh needs openssl and sha256sum"
)


@needs_gen_env
def test_the_secrets_are_made_once_and_the_made_admin_key_is_kept_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIMPUL_BOOTSTRAP_ADMIN_KEY", raising=False)
    first = env_file.prepare(tmp_path / "stack", {"SIMPUL_HTTP_PORT": "18080"})
    assert first.fresh and first.new_key and first.admin_key and first.admin_key.startswith("sk_admin_")
    values = env_file.read_env(first.path)
    assert values["SIMPUL_BOOTSTRAP_ADMIN_KEY_HASH"] == hash_secret(first.admin_key)
    assert values["SIMPUL_HTTP_PORT"] == "18080" and first.admin_key not in first.path.read_text()
    assert first.key_file.read_text().strip() == first.admin_key
    for path in (first.path, first.key_file):
        assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "stack").stat().st_mode & 0o777 == 0o700

    again = env_file.prepare(tmp_path / "stack", {"SIMPUL_HTTP_PORT": "18081"})
    assert not again.fresh and not again.new_key and again.admin_key is None
    kept = env_file.read_env(again.path)
    assert kept["SIMPUL_HTTP_PORT"] == "18081"
    assert {k: v for k, v in kept.items() if k != "SIMPUL_HTTP_PORT"} == {
        k: v for k, v in values.items() if k != "SIMPUL_HTTP_PORT"
    }, "the secrets stay what the stack's volumes were made with"
    assert env_file.admin_key(tmp_path / "stack") == first.admin_key


@needs_gen_env
def test_an_older_stacks_env_gets_the_secrets_it_lacks_and_keeps_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIMPUL_BOOTSTRAP_ADMIN_KEY", raising=False)
    first = env_file.prepare(tmp_path / "stack", {})
    newer = ("SIMPUL_WEB_SECRET", "SIMPUL_NOTIFY_REPLY_SECRET", "SIMPUL_EMAIL_REPLY_SECRET")
    older = {k: v for k, v in env_file.read_env(first.path).items() if k not in newer}
    first.path.write_text("".join(f"{k}={v}\n" for k, v in older.items()))
    again = env_file.prepare(tmp_path / "stack", {})
    assert not again.fresh and not again.new_key
    upgraded = env_file.read_env(again.path)
    assert {k: upgraded[k] for k in older} == older, "what it had stays"
    assert len(upgraded["SIMPUL_WEB_SECRET"]) >= 32
    assert upgraded["SIMPUL_NOTIFY_REPLY_SECRET"] == upgraded["SIMPUL_EMAIL_REPLY_SECRET"] != ""
    assert again.path.stat().st_mode & 0o777 == 0o600


@needs_gen_env
def test_a_given_admin_key_is_hashed_into_the_env_and_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk_admin_" + "k" * 40
    monkeypatch.setenv("SIMPUL_BOOTSTRAP_ADMIN_KEY", key)
    stack = env_file.prepare(tmp_path / "stack", {})
    assert stack.admin_key == key and not stack.new_key and not stack.key_file.exists()
    assert env_file.read_env(stack.path)["SIMPUL_BOOTSTRAP_ADMIN_KEY_HASH"] == hash_secret(key)
    assert key not in stack.path.read_text()
    monkeypatch.setenv("SIMPUL_BOOTSTRAP_ADMIN_KEY", "short")
    with pytest.raises(ValueError, match="at least 32"):
        env_file.prepare(tmp_path / "stack", {})


def test_the_edge_gateway_is_the_subnets_first_address() -> None:
    assert env_file.edge_gateway("172.30.80.0/24") == "172.30.80.1"
    assert env_file.edge_gateway("10.9.0.0/16") == "10.9.0.1"


def test_the_wheelhouse_asks_for_every_manylinux_a_bookworm_runs() -> None:
    tags = manylinux_tags("x86_64")
    assert tags[0] == "manylinux_2_36_x86_64" and "manylinux_2_17_x86_64" in tags
    assert tags[-3:] == ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
    assert manylinux_tags("aarch64")[-1] == "manylinux2014_aarch64"


def test_the_locks_pins_match_wheel_file_names() -> None:
    pins = locked_pins((REPO / "requirements.lock").read_text())
    assert "pydantic_core-" in " ".join(pins) and any(p.startswith("fastapi-") for p in pins)
    lock = "Typing-Extensions==4.12.2 ; python_version < '3.12' \\\n    --hash=sha256:ab\nnats-py==2.9.0 \\\n"
    assert locked_pins(lock) == {"typing_extensions-4.12.2", "nats_py-2.9.0"}


def run_without_docker(tmp_path: Path, command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER")}
    env["PATH"] = str(tmp_path)  # no docker, dockerd, debootstrap or apt-get
    env["SIMPUL_STACK_DIR"] = str(tmp_path / "stack")
    argv = [sys.executable, "-m", "services.stack", command]
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("command", ["test", "up", "images"])
def test_where_docker_cannot_run_each_target_says_so_in_one_line_and_fails(tmp_path: Path, command: str) -> None:
    done = run_without_docker(tmp_path, command)
    assert done.returncode == 1, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    target = {"up": "stack", "images": "images"}.get(command, f"stack-{command}")
    assert line.startswith(f"make {target}: Docker cannot run here: "), line
    assert "missing and cannot be installed here" in line


def test_with_no_stack_and_no_docker_there_is_nothing_to_take_down(tmp_path: Path) -> None:
    done = run_without_docker(tmp_path, "down")
    assert done.returncode == 0 and "nothing of simpul-stack to remove" in done.stdout, done.stdout + done.stderr
