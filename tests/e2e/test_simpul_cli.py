"""`simpul up`, `status` and `migrate` as an operator uses them."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from shared.processes import pid_alive
from tests.e2e.hub import running_hub

pytestmark = pytest.mark.e2e


def _simpul(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.timeout(300)  # two hubs, one after the other, each given 90 s to be ready on a loaded machine
def test_up_prints_a_generated_admin_key_once_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    data_dir = tmp_path / "hub"
    with running_hub(data_dir, admin_key=None) as hub:
        printed = re.findall(r"admin key:\s+(sk_admin_\S+)", hub.output())
        assert len(printed) == 1
        key = printed[0]
        assert key not in (data_dir / "secrets.json").read_text(), "only the key's hash is kept"
        r = httpx.get(f"{hub.base_url}/api/v1/hub/agencies", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200
        assert httpx.get(f"{hub.base_url}/api/v1/hub/agencies").status_code == 401

        status = _simpul("status", "--data-dir", str(data_dir))
        assert status.returncode == 0, status.stdout + status.stderr
        for name in ("nats-server", "intake", "routing", "agency", "notify", "web", "gateway"):
            assert re.search(rf"^{name}\s+\d+\s+\d+\s+(ok|alive)$", status.stdout, re.M), status.stdout

        state = hub.state()
        niceness = {name: os.getpriority(os.PRIO_PROCESS, s["pid"]) for name, s in state["services"].items()}
        front = os.getpriority(os.PRIO_PROCESS, state["supervisor_pid"])
        # The front doors (intake, and the pages in front of it) keep their priority; the work behind them is niced.
        assert niceness == dict.fromkeys(("intake", "web"), front) | dict.fromkeys(
            ("routing", "agency", "notify"), min(front + 10, 19)
        )
        pids = [state["nats"]["pid"], *(s["pid"] for s in state["services"].values())]
        hub.process.send_signal(signal.SIGINT)
        assert hub.process.wait(30) == 0
        assert not any(pid_alive(p) for p in pids), "Ctrl-C stops every process it started"
        assert not (data_dir / "simpul.state.json").exists()
        assert "Simpul stopped." in hub.output()

    with running_hub(data_dir, admin_key=None) as again:
        assert len(re.findall(r"admin key:\s+sk_admin_", again.output())) == 1, "not printed a second time"
        r = httpx.get(f"{again.base_url}/api/v1/hub/agencies", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200

    assert _simpul("status", "--data-dir", str(data_dir)).returncode == 1


def test_migrate_creates_every_service_database(tmp_path: Path) -> None:
    result = _simpul("migrate", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    expected = {"intake": "complaints", "routing": "cases", "agency": "nodes", "notify": "notifications"}
    for service, table in expected.items():
        with sqlite3.connect(tmp_path / f"{service}.db") as conn:
            tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
        assert {table, "outbox", "processed_events", "alembic_version"} <= tables, (service, tables)
