"""Baseline and durable intake: the same body through wrk, to a bare endpoint and through the hub's one base URL."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from services.ports import free_port, port_open
from tests.bench import wrk
from tests.e2e.hub import Api, Hub

Say = Callable[[str], None]
PATH = "/api/v1/complaints"
WARM_UP_S = 2.0


@contextmanager
def baseline_server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.bench.baseline", str(port)])
    try:
        deadline = time.monotonic() + 30
        while not port_open(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the baseline server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(30)


def measure_baseline(seconds: float, say: Say) -> dict[str, Any]:
    with baseline_server() as base:
        wrk.run(base + PATH, WARM_UP_S)
        say(f"baseline: wrk -c{wrk.CONNECTIONS} for {seconds:.0f}s ...")
        result = wrk.run(base + PATH, seconds)
    say(f"baseline: {result.ok_rate:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms")
    return asdict(result) | {"ok_rate": result.ok_rate}


def prepare_directory(api: Api) -> dict[str, str]:
    """One instansi and one UPT with a rule for the bench body's category: every complaint is routed to an inbox."""
    api.node("BENCH", "instansi")
    api.node("BENCH-UPT", "upt", "BENCH", region_codes=["35"])
    rule = {"agency_code": "BENCH-UPT", "category": wrk.BODY["category"], "priority": 0}
    api.ok(api.client.post("/api/v1/hub/routing-rules", json=rule, headers=api.admin), 201)
    return api.key("BENCH-UPT")


def measure_durable_intake(hub: Hub, seconds: float, say: Say) -> dict[str, Any]:
    url = hub.base_url + PATH
    wrk.run(url, WARM_UP_S)
    before = committed(hub.data_dir)
    say(f"durable intake: wrk -c{wrk.CONNECTIONS} for {seconds:.0f}s through the one base URL ...")
    result = wrk.run(url, seconds)
    stored = committed(hub.data_dir) - before
    accepted = result.requests - result.non_2xx - result.errors
    say(
        f"durable intake: {result.ok_rate:,.0f} accepted/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms; "
        f"{stored} complaints committed with their events for {accepted} 201s"
    )
    if stored < accepted:
        raise RuntimeError(f"{accepted} submissions answered 201 but only {stored} were committed")
    return asdict(result) | {"ok_rate": result.ok_rate, "committed": stored}


def committed(data_dir: Path) -> int:
    """Complaints in intake's database, counted only as far as their complaint.submitted events are in the outbox
    too (sent or not; sent rows are kept a day)."""
    with sqlite3.connect(f"file:{data_dir / 'intake.db'}?mode=ro", uri=True, timeout=30) as conn:
        (complaints,) = conn.execute("SELECT count(*) FROM complaints").fetchone()
        (events,) = conn.execute("SELECT count(*) FROM outbox WHERE subject = 'simpul.complaint.submitted'").fetchone()
    return min(int(complaints), int(events))
