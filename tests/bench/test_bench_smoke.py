"""`make bench` at a token size: every part runs and reports figures (CI checks that it works, not how fast)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench import wrk

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not wrk.available() and os.environ.get("CI") != "true", reason="wrk is not installed"),
]


@pytest.mark.timeout(600)  # three hubs, each started, loaded and stopped
def test_the_benchmark_runs_end_to_end_and_writes_its_report(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    argv = [sys.executable, "-m", "tests.bench", "--smoke", "--out", str(tmp_path)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "performance.json").read_text())
    assert results["baseline"]["ok_rate"] > 0 and results["durable_intake"]["ok_rate"] > 0
    assert results["durable_intake"]["committed"] >= results["durable_intake"]["requests"] - (
        results["durable_intake"]["non_2xx"] + results["durable_intake"]["errors"]
    )
    runs = results["end_to_end"]["runs"]
    assert runs and all(r["complaints"] > 0 and r["arrived"] == r["complaints"] for r in runs), runs
    assert all(r["p50_ms"] > 0 and r["p99_ms"] >= r["p50_ms"] for r in runs)
    cpu = results["cpu"]
    assert cpu["backlog"]["complaints"] > 0 and cpu["backlog"]["filed_per_s"] > 0
    assert all(cpu["backlog"]["ms"][n] > 0 for n in ("routing", "agency", "notify")), cpu["backlog"]
    assert cpu["accepting"]["complaints"] > 0 and cpu["accepting"]["ms"]["intake"] > 0
    assert cpu["pipeline_ceiling_per_s"] == cpu["cpus"] * 1000 / cpu["backlog"]["total_ms"]
    upload = results["upload"]
    assert upload["bare"]["uploads"] > 0 and upload["bare"]["failed"] == 0
    assert upload["hub"]["uploads"] > 0 and upload["hub"]["failed"] == 0
    assert upload["ratio"] == upload["hub"]["per_s"] / upload["bare"]["per_s"]
    assert upload["cpu_ms_per_upload"]["intake"] > 0 and upload["cpu_ms_per_upload"]["gateway"] > 0
    for run in ("cold", "warm"):
        for process in ("intake", "gateway"):
            memory = upload["memory"][run][process]
            assert 0 < memory["idle_mib"] <= memory["peak_mib"], memory
    page = (tmp_path / "performance.md").read_text()
    assert "| Durable intake through the one base URL" in page and "python -m tests.bench --smoke" in page
    assert "| Upload of a 0.25 MiB file through the one base URL" in page and "## Uploads" in page
    assert "## Where the limit is" in page and "| notify |" in page
    assert "{" not in page, "a figure left unformatted"
    assert (tmp_path / "performance.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.timeout(300)
def test_the_cpu_breakdown_counts_every_process_of_the_hub() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    argv = [sys.executable, "-m", "tests.bench.cpu", "--rate", "8", "--seconds", "3"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    complaints = int(done.stdout.split(" complaints;", 1)[0])
    costs = dict(line.split() for line in done.stdout.splitlines()[1:])
    assert complaints > 0
    assert set(costs) == {"intake", "routing", "agency", "notify", "web", "gateway", "nats-server", "total"}
    assert float(costs["intake"]) > 0 and float(costs["routing"]) > 0 and float(costs["agency"]) > 0
