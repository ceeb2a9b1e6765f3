"""`make bench`: baseline, durable intake, end to end, uploads and scale, in one run; writes
docs/performance.{md,json,png}.

    python -m tests.bench [--smoke] [--only upload] [--out DIR] [--postgres URL]

--smoke runs every part at a token size (CI checks that the benchmark works, not how fast it is). --only upload
measures the uploads alone and puts them into the report already in --out, the other parts' figures as they were.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.bench import cpu, e2e, report, upload, wrk
from tests.bench.intake import measure_baseline, measure_durable_intake, prepare_directory
from tests.e2e.hub import Api, running_hub

FULL_FRACTIONS = (0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7)
"""Offered end-to-end rates, as fractions of the baseline, tried in turn until one is not sustained."""
SMOKE_RATES = (10.0, 20.0)
LADDER = (10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 60.0, 80.0)
"""Offered end-to-end rates tried first, in turn, before the fractions of the baseline above them."""


def say(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="token sizes: check that every part works")
    parser.add_argument("--out", default="docs", help="where performance.md, .json and .png go (default docs/)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SIMPUL_BENCH_POSTGRES_URL") or os.environ.get("SIMPUL_TEST_POSTGRES_URL"),
        help="PostgreSQL for the 1,000,000-case sweep and statistics (default: SIMPUL_BENCH_POSTGRES_URL or "
        "SIMPUL_TEST_POSTGRES_URL); without it they are skipped",
    )
    parser.add_argument(
        "--only",
        choices=["upload"],
        help="measure this part alone, into the report already in --out (the other parts' figures as they were)",
    )
    args = parser.parse_args(argv)
    if args.only:
        return _only_uploads(args.smoke, Path(args.out))
    if not wrk.available():
        say("make bench needs wrk (a load generator): on Debian or Ubuntu, apt-get install wrk")
        return 2
    seconds = 4.0 if args.smoke else 15.0
    e2e_seconds = 2.0 if args.smoke else 60.0
    started = time.monotonic()
    results: dict[str, Any] = {
        "machine": report.machine(),
        "smoke": args.smoke,
        "connections": wrk.CONNECTIONS,
        "lag_bound_ms": e2e.LAG_BOUND_MS,
    }
    results["baseline"] = measure_baseline(seconds, say)
    base = results["baseline"]["ok_rate"]
    with tempfile.TemporaryDirectory(prefix="simpul-bench-") as tmp:
        say("starting the hub (simpul up, embedded default) ...")
        with running_hub(Path(tmp) / "intake") as hub:
            api = Api(hub)
            try:
                prepare_directory(api)
                results["durable_intake"] = measure_durable_intake(hub, seconds, say)
            finally:
                api.client.close()
        # The burst's backlog would take minutes to route; the end-to-end runs start from a fresh hub instead.
        say("starting a fresh hub for the end-to-end runs ...")
        with running_hub(Path(tmp) / "e2e") as hub:
            api = Api(hub)
            try:
                prepare_directory(api)
                rates = SMOKE_RATES if args.smoke else _ladder(base)
                results["end_to_end"] = _end_to_end(hub, rates, e2e_seconds)
            finally:
                api.client.close()
        say("starting a fresh hub for the CPU breakdown (a backlog drained in full batches, then accepting alone) ...")
        with running_hub(Path(tmp) / "cpu") as hub:
            cpu.warm(hub)
            backlog_seconds = 1.0 if args.smoke else 2.0
            results["cpu"] = cpu.breakdown(hub, backlog_seconds=backlog_seconds, accepting_seconds=seconds / 3)
            if args.smoke:  # a hub takes long to start: the token-sized uploads share this one, once it is quiet
                cpu.wait_until_filed(hub, cpu.count(hub.data_dir / "intake.db", "complaints"))
                results["upload"] = _uploads(hub, Path(tmp), args.smoke, routed=True) | {"shared_hub": True}
        if not args.smoke:
            say("starting a fresh hub for the uploads ...")
            with running_hub(Path(tmp) / "upload") as hub:
                results["upload"] = _uploads(hub, Path(tmp), args.smoke)
    results["scale"] = _scale(args.smoke, args.postgres)
    results["finished_at"] = _now()
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    command = "make bench" if not args.smoke else "python -m tests.bench --smoke"
    report.write(results, Path(args.out), command)
    say(f"written {Path(args.out) / 'performance.md'} (and .json, .png) in {results['elapsed_s']:.0f}s")
    return 0


UPLOAD_SECONDS = 15.0


def _uploads(hub: Any, tmp: Path, smoke: bool, *, routed: bool = False) -> dict[str, Any]:
    command = "python -m tests.bench --smoke" if smoke else "make bench"
    return upload.measure(hub, tmp, seconds=UPLOAD_SECONDS, smoke=smoke, say=say, routed=routed) | {"command": command}


def _only_uploads(smoke: bool, out: Path) -> int:
    """The uploads on a hub of their own, into the report in `out` (or a report of their own, if there is none)."""
    started = time.monotonic()
    previous = out / "performance.json"
    results: dict[str, Any] = json.loads(previous.read_text()) if previous.exists() else {}
    if not results or results.get("smoke") != smoke:
        results = {"machine": report.machine(), "smoke": smoke, "finished_at": _now()}
    with tempfile.TemporaryDirectory(prefix="simpul-bench-") as tmp:
        say("starting a hub for the uploads ...")
        with running_hub(Path(tmp) / "upload") as hub:
            part = upload.measure(hub, Path(tmp), seconds=UPLOAD_SECONDS, smoke=smoke, say=say)
    argv = "python -m tests.bench --only upload" + (" --smoke" if smoke else "")
    results["upload"] = part | {"command": argv}
    whole = "end_to_end" in results
    report.write(results, out, ("make bench" if not smoke else "python -m tests.bench --smoke") if whole else argv)
    say(f"written {out / 'performance.md'} (and .json) in {time.monotonic() - started:.0f}s")
    return 0


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _end_to_end(hub: Any, rates: tuple[float, ...], seconds: float) -> dict[str, Any]:
    runs: list[e2e.RateRun] = []
    sustained: float | None = None
    for rate in rates:
        _wait_until_routed(hub.data_dir)  # each rate starts from a drained hub, not from the last one's backlog
        run = e2e.run_rate(hub, rate, seconds, say)
        runs.append(run)
        if not run.sustained:
            break
        sustained = run.achieved
    _wait_until_routed(hub.data_dir)
    half = e2e.run_rate(hub, sustained / 2, seconds, say) if sustained else None
    return {
        "seconds": seconds,
        "runs": [r.asdict() for r in runs] + ([half.asdict()] if half else []),
        "sustained_rate": sustained,
        "half_rate_run": half.asdict() if half else None,
    }


def _ladder(baseline: float) -> tuple[float, ...]:
    """The offered rates, rising: the fixed first steps, then the fractions of the baseline above them."""
    return LADDER + tuple(f * baseline for f in FULL_FRACTIONS if f * baseline > LADDER[-1])


def _wait_until_routed(data_dir: Path, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _count(data_dir / "agency.db", "cases") >= _count(data_dir / "intake.db", "complaints"):
            return
        time.sleep(0.5)
    raise RuntimeError("the hub did not route the burst within five minutes")


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        (n,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - a fixed table name
    return int(n)


def _scale(smoke: bool, postgres_url: str | None) -> dict[str, Any]:
    try:
        from tests.bench.scale import run_scale
    except ImportError:
        return {"skipped": "tests/bench/scale.py is not there yet"}
    return asyncio.run(run_scale(smoke=smoke, postgres_url=postgres_url, progress=say))


if __name__ == "__main__":
    sys.exit(main())
