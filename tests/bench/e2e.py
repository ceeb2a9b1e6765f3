"""End to end: from the POST to the agency inbox, at steady offered rates, measured from the services' own records.

The submission time is intake's `submitted_at`; the arrival is agency_svc's `processed_at` for the case's
complaint.dispositioned event (its kit table `processed_events`), found through routing's outbox, which keeps each
published event for a day. Both are written by the services on this machine's clock, so nothing polls the API.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.bench import paced
from tests.e2e.hub import Hub

Say = Callable[[str], None]
DRAIN_TIMEOUT_S = 60.0
LAG_BOUND_MS = 1000.0
"""A rate is sustained when every complaint of the run reaches its inbox and the p99 stays under this."""


@dataclass(frozen=True)
class RateRun:
    offered: float
    achieved: float
    complaints: int
    arrived: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    drained_in_s: float

    @property
    def sustained(self) -> bool:
        return self.arrived == self.complaints and self.achieved >= 0.9 * self.offered and self.p99_ms <= LAG_BOUND_MS

    def asdict(self) -> dict[str, Any]:
        return {**self.__dict__, "sustained": self.sustained}


def run_rate(hub: Hub, rate: float, seconds: float, say: Say) -> RateRun:
    """Offer `rate` submissions a second for `seconds` (open loop, up to 64 connections), then wait for the inboxes."""
    started = _utc_now_iso()
    result = paced.run(hub.base_url + "/api/v1/complaints", rate, seconds)
    stopped = time.monotonic()
    submitted = _submitted_since(hub.data_dir, started)
    arrivals: dict[str, float] = {}
    while time.monotonic() - stopped < DRAIN_TIMEOUT_S:
        arrivals = _arrivals(hub.data_dir, set(submitted))
        if len(arrivals) >= len(submitted):
            break
        time.sleep(0.25)
    drained = time.monotonic() - stopped
    latencies = sorted(1000 * (arrivals[t] - submitted[t]) for t in arrivals)
    run = RateRun(
        offered=rate,
        achieved=result.ok_rate,
        complaints=len(submitted),
        arrived=len(arrivals),
        p50_ms=_quantile(latencies, 0.50),
        p99_ms=_quantile(latencies, 0.99),
        max_ms=latencies[-1] if latencies else float("nan"),
        drained_in_s=drained,
    )
    say(
        f"end to end at {rate:,.0f}/s offered: {run.achieved:,.0f}/s accepted, {run.arrived}/{run.complaints} in "
        f"their inbox, p50 {run.p50_ms:.0f} ms, p99 {run.p99_ms:.0f} ms, max {run.max_ms:.0f} ms"
        + ("" if run.sustained else "  (not sustained)")
    )
    return run


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=1000, method="inclusive")[round(q * 1000) - 1]


def _utc_now_iso() -> str:
    """Now in UTC as the services' SQLite columns hold it (naive ISO text), so it compares as text."""
    from datetime import UTC

    return datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _read(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)


def _epoch(value: str) -> float:
    from datetime import UTC

    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _submitted_since(data_dir: Path, since_iso: str) -> dict[str, float]:
    with _read(data_dir / "intake.db") as conn:
        rows = conn.execute("SELECT tracking_id, submitted_at FROM complaints WHERE submitted_at >= ?", (since_iso,))
        return {tid: _epoch(at) for tid, at in rows}


def _arrivals(data_dir: Path, wanted: set[str]) -> dict[str, float]:
    """tracking id → when agency_svc committed the case's first disposition, for the wanted cases that arrived."""
    events: dict[str, str] = {}
    with _read(data_dir / "routing.db") as conn:
        for event_id, payload in conn.execute(
            "SELECT event_id, payload FROM outbox WHERE subject LIKE 'simpul.complaint.dispositioned.%'"
        ):
            tid = json.loads(payload)["correlation_id"]
            if tid in wanted:
                events.setdefault(event_id, tid)
    if not events:
        return {}
    with _read(data_dir / "agency.db") as conn:
        rows = conn.execute(
            "SELECT event_id, processed_at FROM processed_events WHERE consumer = 'agency-inbox'"
        ).fetchall()
    arrived: dict[str, float] = {}
    for event_id, at in rows:
        tid = events.get(event_id)
        if tid is not None:
            arrived[tid] = min(arrived.get(tid, float("inf")), _epoch(at))
    return arrived
