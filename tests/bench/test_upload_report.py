"""The upload part of docs/performance.md: its rows, targets and section, alone (`--only upload`) or in a report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.bench import report

MIB = 1024 * 1024


def _memory(intake_rise: float) -> dict[str, Any]:
    def run(rise: float) -> dict[str, Any]:
        return {
            "intake": {"idle_mib": 80.0, "peak_mib": 80.0 + rise, "delta_mib": rise},
            "gateway": {"idle_mib": 60.0, "peak_mib": 63.0, "delta_mib": 3.0},
        }

    return {
        "uploads": 8,
        "size": 10 * MIB,
        "cold": run(intake_rise),
        "warm": run(intake_rise / 2),
        "delta_mib": {"intake": intake_rise, "gateway": 3.0},
    }


def _upload(hub_per_s: float, intake_rise: float) -> dict[str, Any]:
    def run(per_s: float) -> dict[str, Any]:
        return {"uploads": int(per_s * 15), "per_s": per_s, "mib_per_s": per_s * 5, "p50_ms": 40.0, "p99_ms": 90.0}

    return {
        "command": "python -m tests.bench --only upload",
        "measured_at": "2026-12-07 12:00 UTC",
        "size": 5 * MIB,
        "concurrency": 4,
        "seconds": 15.0,
        "bare": run(80.0) | {"method": "a bare endpoint", "cpu_ms_per_upload": {"server": 9.0, "load": 4.0}},
        "hub": run(hub_per_s) | {"cases": 30, "per_case": 10},
        "ratio": hub_per_s / 80.0,
        "cpu_ms_per_upload": {"intake": 20.0, "gateway": 8.0, "nats-server": 6.0},
        "load_cpu_ms_per_upload": 4.5,
        "memory": _memory(intake_rise),
    }


def test_the_uploads_alone_make_a_report_with_their_targets(tmp_path: Path) -> None:
    results = {
        "machine": report.machine(),
        "smoke": False,
        "finished_at": "2026-12-07 12:00 UTC",
        "upload": _upload(hub_per_s=44.0, intake_rise=70.5),
    }
    report.write(results, tmp_path, "python -m tests.bench --only upload")
    page = (tmp_path / "performance.md").read_text()
    rows = {line.split(" | ")[0].lstrip("| "): line for line in page.splitlines() if line.startswith("| ")}
    upload = rows["Upload of a 5 MiB file through the one base URL, 4 at a time (uploads/s; MiB/s)"]
    assert "44.0; 220 (0.55×)" in upload and upload.endswith("| ≥ 0.5× the bare endpoint | yes |")
    memory = rows["intake's peak resident memory above idle, 8 concurrent 10 MiB uploads (MiB)"]
    assert memory.endswith("| 70.5 | < 64 MiB | **no** |")
    assert "| intake | 80.0 | 150.5 | 70.5 | 80.0 | 115.2 | 35.2 |" in page
    assert "| total, the hub | 34.00 |" in page and "| the load generator | 4.50 |" in page
    assert "The bare endpoint took 9.00 ms of CPU per upload, and its load generator 4.00 ms." in page
    assert "intake could take at most 50.0 uploads a second, the bare endpoint 111.1 (0.45×)." in page
    assert "## Uploads" in page and "{" not in page
    assert not (tmp_path / "performance.png").exists()
    assert json.loads((tmp_path / "performance.json").read_text())["upload"]["ratio"] == 44.0 / 80.0
