"""Where the CPU goes: milliseconds of CPU per complaint in each process of one `simpul up` hub (from /proc).

    python -m tests.bench.cpu [--rate 20] [--seconds 15] [--intake-only | --backlog]

Offers `rate` complaints a second for `seconds` (wrk, paced), waits until every one is in its agency inbox, and
divides each process's CPU time (user + system, all threads) by the number of complaints. With --intake-only,
routing, agency and notify are paused (SIGSTOP) and wrk runs flat out: the cost of accepting a complaint alone.
With --backlog, they are paused while wrk runs flat out, then let go: the cost of routing, filing and notifying
a backlog, where every consumer works in full batches (the least CPU per complaint the pipeline can reach), and
the rate at which the backlog reaches the agency inboxes.
Linux only. A profile of one process: py-spy record -p PID (pids in the hub's simpul.state.json).
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.bench import wrk
from tests.bench.intake import PATH, prepare_directory
from tests.e2e.hub import Api, Hub, running_hub

DOWNSTREAM = ("routing", "agency", "notify")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process and all its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def processes(hub: Hub) -> dict[str, int]:
    state = hub.state()
    pids = {name: int(s["pid"]) for name, s in state["services"].items()}
    return pids | {"gateway": int(state["supervisor_pid"]), "nats-server": int(state["nats"]["pid"])}


@contextmanager
def paused(pids: list[int]) -> Iterator[None]:
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def count(db: Path, table: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        (n,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - a fixed table name
    return int(n)


def pending_notifications(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        (n,) = conn.execute("SELECT count(*) FROM notifications WHERE status = 'pending'").fetchone()
    return int(n)


def handled_events(hub: Hub) -> int:
    return sum(count(hub.data_dir / f"{name}.db", "processed_events") for name in ("intake", *DOWNSTREAM))


def wait_until_filed(hub: Hub, complaints: int, timeout: float = 600) -> float:
    """Until every complaint is in its agency inbox (the seconds that took), then until the hub is quiet: no
    consumer handles another event for a second and notify has nothing left to send."""
    started = time.monotonic()
    deadline = started + timeout
    while count(hub.data_dir / "agency.db", "cases") < complaints and time.monotonic() < deadline:
        time.sleep(0.2)
    filed = time.monotonic() - started
    handled = -1
    while time.monotonic() < deadline:
        now = handled_events(hub)
        if now == handled and not pending_notifications(hub.data_dir / "notify.db"):
            break
        handled = now
        time.sleep(1)
    return filed


def measure_backlog(hub: Hub, *, seconds: float) -> tuple[int, float, dict[str, float]]:
    """(complaints, complaints filed a second, CPU ms per complaint by process) for a backlog let go at once."""
    pids = processes(hub)
    before_count = count(hub.data_dir / "intake.db", "complaints")
    with paused([pids[n] for n in DOWNSTREAM]):
        wrk.run(hub.base_url + PATH, seconds)
        complaints = count(hub.data_dir / "intake.db", "complaints")
        time.sleep(1)  # intake's relay publishes the last events
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    filed = wait_until_filed(hub, complaints)
    after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    n = complaints - before_count
    return n, n / filed, {name: (after[name] - before[name]) * 1000 / max(n, 1) for name in pids}


def measure(hub: Hub, *, rate: float, seconds: float, intake_only: bool) -> tuple[int, dict[str, float]]:
    """(complaints, CPU ms per complaint by process)."""
    pids = processes(hub)
    url = hub.base_url + PATH
    before_count = count(hub.data_dir / "intake.db", "complaints")
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    if intake_only:
        with paused([pids[n] for n in DOWNSTREAM]):
            wrk.run(url, seconds)
            after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    else:
        connections = max(1, min(wrk.CONNECTIONS, int(rate)))
        wrk.run(url, seconds, per_connection_rate=rate / connections, connections=connections)
        wait_until_filed(hub, count(hub.data_dir / "intake.db", "complaints"))
        after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    n = count(hub.data_dir / "intake.db", "complaints") - before_count
    return n, {name: (after[name] - before[name]) * 1000 / max(n, 1) for name in pids}


def warm(hub: Hub) -> None:
    """The directory the body routes to, and every path of the pipeline run once."""
    api = Api(hub)
    try:
        prepare_directory(api)
    finally:
        api.client.close()
    wrk.run(hub.base_url + PATH, 1, per_connection_rate=2.0, connections=4)
    time.sleep(3)


def breakdown(hub: Hub, *, backlog_seconds: float, accepting_seconds: float) -> dict[str, Any]:
    """For `make bench`, on a warmed hub: a backlog drained in full batches, then accepting alone."""
    n, filed, backlog = measure_backlog(hub, seconds=backlog_seconds)
    accepted, accepting = measure(hub, rate=0, seconds=accepting_seconds, intake_only=True)
    cpus = os.cpu_count() or 1
    return {
        "cpus": cpus,
        "backlog": {"complaints": n, "filed_per_s": filed, "ms": backlog, "total_ms": sum(backlog.values())},
        "accepting": {"complaints": accepted, "ms": accepting, "total_ms": sum(accepting.values())},
        # Every CPU busy with nothing but the pipeline, in its cheapest (fully batched) mode.
        "pipeline_ceiling_per_s": cpus * 1000 / max(sum(backlog.values()), 1e-9),
        # intake is one process: one CPU at most.
        "intake_ceiling_per_s": 1000 / max(accepting["intake"], 1e-9),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="complaints a second, paced (default 20)")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long to offer them (default 15)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--intake-only", action="store_true", help="pause the downstream services; wrk flat out")
    mode.add_argument("--backlog", action="store_true", help="a backlog built for `seconds`, then drained at once")
    args = parser.parse_args(argv)
    drained: float | None = None
    with tempfile.TemporaryDirectory(prefix="simpul-cpu-") as tmp, running_hub(Path(tmp) / "hub") as hub:
        warm(hub)
        if args.backlog:
            n, drained, costs = measure_backlog(hub, seconds=args.seconds)
        else:
            n, costs = measure(hub, rate=args.rate, seconds=args.seconds, intake_only=args.intake_only)
    print(f"{n} complaints; CPU ms per complaint:")
    for name, ms in costs.items():
        print(f"  {name:<12} {ms:8.2f}")
    print(f"  {'total':<12} {sum(costs.values()):8.2f}")
    if drained is not None:
        print(f"the backlog reached the agency inboxes at {drained:.0f} complaints a second")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
