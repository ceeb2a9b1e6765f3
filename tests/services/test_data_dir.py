"""The data folder (databases, the broker store, secrets, logs) is readable by its owner only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.data_dir import PRIVATE_UMASK, prepare_data_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def restore_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    os.umask(previous)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_new_folder_is_private_and_what_is_made_in_it_too(tmp_path: Path, restore_umask: None) -> None:
    data_dir = tmp_path / "a" / "hub"
    assert prepare_data_dir(data_dir) == []
    assert mode(data_dir) == 0o700
    assert os.umask(PRIVATE_UMASK) == PRIVATE_UMASK, "the processes it starts inherit the private umask"
    (data_dir / "logs").mkdir()
    (data_dir / "logs" / "intake.log").write_text("x")
    assert (mode(data_dir / "logs"), mode(data_dir / "logs" / "intake.log")) == (0o700, 0o600)


def test_an_existing_folder_open_to_others_is_tightened(tmp_path: Path, restore_umask: None) -> None:
    data_dir = tmp_path / "hub"
    (data_dir / "nats" / "jetstream").mkdir(parents=True)
    os.chmod(data_dir, 0o755)
    os.chmod(data_dir / "nats", 0o775)
    (data_dir / "intake.db").write_text("db")
    os.chmod(data_dir / "intake.db", 0o644)
    (data_dir / "own.txt").write_text("already private")
    os.chmod(data_dir / "own.txt", 0o600)

    tightened = prepare_data_dir(data_dir)

    assert set(tightened) >= {data_dir, data_dir / "nats", data_dir / "intake.db"}
    assert data_dir / "own.txt" not in tightened
    assert mode(data_dir) == 0o700 and mode(data_dir / "nats") == 0o700
    assert mode(data_dir / "intake.db") == 0o600 and mode(data_dir / "own.txt") == 0o600


@pytest.mark.e2e
def test_simpul_migrate_leaves_nothing_in_the_folder_readable_by_others(tmp_path: Path) -> None:
    data_dir = tmp_path / "hub"
    data_dir.mkdir()
    os.chmod(data_dir, 0o755)
    # As an operator's shell would start it: with the usual umask 022, which alone leaves files readable by all.
    script = 'umask 022 && exec "$0" -m services.cli migrate --data-dir "$1"'
    result = subprocess.run(  # noqa: S603 - our own CLI
        ["/bin/sh", "-c", script, sys.executable, str(data_dir)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "readable by their owner only" in result.stdout
    made = sorted(data_dir.rglob("*"))
    assert {p.name for p in made} >= {"intake.db", "notify.db", "secrets.json", "logs", "intake.migrate.log"}
    open_to_others = {str(p.relative_to(data_dir)): oct(mode(p)) for p in [data_dir, *made] if mode(p) & 0o077}
    assert open_to_others == {}
