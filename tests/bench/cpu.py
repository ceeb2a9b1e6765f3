"""Where the CPU goes: milliseconds of CPU per complaint in each process of one `simpul up` hub (from /proc).

    python -m tests.bench.cpu [--rate 20] [--seconds 15] [--intake-only]

Offers `rate` complaints a second for `seconds` (wrk, paced), waits until every one is in its agency inbox, and
divides each process's CPU time (user + system, all threads) by the number of complaints. With --intake-only,
routing, agency and notify are paused (SIGSTOP) and wrk runs flat out: the cost of accepting a complaint alone.
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
        complaints = count(hub.data_dir / "intake.db", "complaints")
        deadline = time.monotonic() + 600
        while count(hub.data_dir / "agency.db", "cases") < complaints and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)  # the notifications behind the last cases
        after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    n = count(hub.data_dir / "intake.db", "complaints") - before_count
    return n, {name: (after[name] - before[name]) * 1000 / max(n, 1) for name in pids}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="complaints a second, paced (default 20)")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long to offer them (default 15)")
    parser.add_argument("--intake-only", action="store_true", help="pause the downstream services; wrk flat out")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="simpul-cpu-") as tmp, running_hub(Path(tmp) / "hub") as hub:
        api = Api(hub)
        try:
            prepare_directory(api)
        finally:
            api.client.close()
        wrk.run(hub.base_url + PATH, 1, per_connection_rate=2.0, connections=4)  # warm every path once
        time.sleep(3)
        n, costs = measure(hub, rate=args.rate, seconds=args.seconds, intake_only=args.intake_only)
    print(f"{n} complaints; CPU ms per complaint:")
    for name, ms in costs.items():
        print(f"  {name:<12} {ms:8.2f}")
    print(f"  {'total':<12} {sum(costs.values()):8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
