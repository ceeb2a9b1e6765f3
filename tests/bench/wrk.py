"""The load: wrk (a separate C process, 64 connections), POSTing a complaint body, optionally paced to a rate."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CONNECTIONS = 64
THREADS = 2
TIMEOUT_S = 10
"""A response slower than this counts as an error (wrk's own default, 2 s, would count a busy hub's queue as errors)."""

BODY = {
    "title": "Antrean layanan paspor terlalu lama",
    "content": "Sejak pukul tujuh pagi antrean tidak bergerak dan petugas tidak memberi penjelasan. " * 3,
    "classification": "pengaduan",
    "category": "keimigrasian",
    "region_code": "3578",
    "channel": "web",
    "reporter": {"name": "Pelapor Uji", "email": "pelapor@example.test"},
}

_SCRIPT = """
wrk.method = "POST"
wrk.body = [==[%(body)s]==]
wrk.headers["Content-Type"] = "application/json"
local pause = %(pause_ms)s
if pause > 0 then
  function delay() return pause end
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    non_2xx: int
    errors: int
    seconds: float
    rate: float
    """Responses a second (2xx and not)."""
    p50_ms: float
    p99_ms: float

    @property
    def ok_rate(self) -> float:
        return (self.requests - self.non_2xx - self.errors) / self.seconds


def available() -> bool:
    return shutil.which("wrk") is not None


def run(
    url: str, seconds: float, *, per_connection_rate: float | None = None, connections: int = CONNECTIONS
) -> WrkResult:
    """Run wrk against `url`; with `per_connection_rate`, each connection waits 1/rate between requests."""
    pause_ms = 0 if per_connection_rate is None else max(1, round(1000 / per_connection_rate))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_SCRIPT % {"body": json.dumps(BODY), "pause_ms": pause_ms})
        script = Path(f.name)
    try:
        argv = [
            "wrk",
            f"-t{min(THREADS, connections)}",
            f"-c{connections}",
            f"-d{seconds:.0f}s",
            "--latency",
            f"--timeout={TIMEOUT_S}s",
            "-s",
            str(script),
            url,
        ]
        out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    finally:
        script.unlink()
    return parse(out, seconds)


def parse(out: str, seconds: float) -> WrkResult:
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s|m)", out)
    if total is None:
        raise ValueError(f"unexpected wrk output:\n{out}")
    requests = int(total.group(1))
    elapsed = float(total.group(2)) * {"s": 1.0, "ms": 0.001, "m": 60.0}[total.group(3)]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        requests=requests,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
        seconds=elapsed or seconds,
        rate=requests / (elapsed or seconds),
        p50_ms=_percentile(out, "50%"),
        p99_ms=_percentile(out, "99%"),
    )


def _percentile(out: str, label: str) -> float:
    found = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if found is None:
        return float("nan")
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
