"""Uploads: a 5 MiB file through the one base URL against a bare endpoint that streams the same body to disk, and the
resident memory that 8 concurrent 10 MiB uploads take in intake (and in the gateway).

The hub's uploads go to cases submitted for the purpose, each taking at most as many as intake's default limits allow
(10 files per uploader, 50 MiB per case): the limits are not raised, so every upload runs the checks a real one does.
The cases are routed to an agency inbox, and the hub is quiet, before anything is measured.

Memory is read from /proc: a process's resident set when idle (VmRSS), then its peak during the uploads (VmHWM, the
kernel's own high-water mark, reset just before them through /proc/PID/clear_refs; where that cannot be reset, the
largest VmRSS sampled every few milliseconds). It is taken twice: on a hub that has taken no upload yet (the first
uploads pay for what they load once) and again after the throughput runs; the target is checked against the larger.
"""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from services.ports import free_port, port_open
from tests.bench import cpu, upload_load, wrk
from tests.bench.intake import prepare_directory
from tests.bench.upload_baseline import PATH as BARE_PATH
from tests.e2e.hub import Api, Hub

Say = Callable[[str], None]
MIB = upload_load.MIB
CONCURRENCY = 4
FILE_BYTES = 5 * MIB
MEMORY_UPLOADS = 8
MEMORY_FILE_BYTES = 10 * MIB
SMOKE_FILE_BYTES = 256 * 1024
SMOKE_MEMORY_FILE_BYTES = 1 * MIB
SMOKE_UPLOADS = 20
"""A smoke run's throughput runs: this many uploads each, no warm-up, no time limit."""
MAX_FILES_PER_CASE = 10
MAX_CASE_BYTES = 50 * MIB
"""intake's default limits (SIMPUL_INTAKE_ATTACHMENT_MAX_FILES, SIMPUL_INTAKE_ATTACHMENT_MAX_CASE_BYTES), unchanged."""
WARM_UP_S = 2.0
SAMPLE_EVERY_S = 0.002
BARE_METHOD = (
    "a bare FastAPI endpoint (tests/bench/upload_baseline.py; one uvicorn worker, uvloop, httptools, as intake is"
    " served) that parses the body with python-multipart's push parser as it streams in (`request.stream()`) and"
    " writes the file part to a temporary file, removed before its 201: no hashing, checks, encryption, database or"
    " NATS, no fsync"
)


@contextmanager
def bare_server(directory: Path) -> Iterator[tuple[str, int]]:
    """The bare endpoint's base URL and process id."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.bench.upload_baseline", str(port), str(directory)])
    try:
        deadline = time.monotonic() + 30
        while not port_open(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the upload baseline server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def measure_bare(tmp: Path, *, seconds: float, smoke: bool, say: Say) -> dict[str, Any]:
    """Uploads a second to the bare endpoint, `CONCURRENCY` at a time, after a warm-up (a smoke run: a few, at once)."""
    size = SMOKE_FILE_BYTES if smoke else FILE_BYTES
    with bare_server(tmp / "bare-uploads") as (base, pid):
        say(f"upload baseline: {_mib(size)} files, {CONCURRENCY} at a time, {_how_long(seconds, smoke)} ...")
        bare = [{"url": base + BARE_PATH, "headers": {}}]
        if not smoke:
            _closed_loop(bare, size, WARM_UP_S, tmp, cycle=True)
        before = cpu.cpu_seconds(pid)
        run = (
            _closed_loop(bare * SMOKE_UPLOADS, size, None, tmp)
            if smoke
            else _closed_loop(bare, size, seconds, tmp, cycle=True)
        )
        server_cpu = cpu.cpu_seconds(pid) - before
    _check(run, "the bare endpoint")
    say(f"upload baseline: {run.per_s:,.1f} uploads/s ({run.mib_per_s:,.0f} MiB/s), p50 {run.p50_ms:.0f} ms")
    return run.asdict() | {
        "method": BARE_METHOD,
        "cpu_ms_per_upload": {"server": _per_upload(server_cpu, run), "load": _per_upload(run.client_cpu_s, run)},
    }


def measure_hub(
    hub: Hub, tmp: Path, *, seconds: float, smoke: bool, bare: dict[str, Any], say: Say, routed: bool = False
) -> dict[str, Any]:
    """Memory on a hub that has taken no upload, then throughput through the one base URL, then memory again.
    `routed`: the hub routes the bench's complaints already (tests.bench.intake.prepare_directory)."""
    size = SMOKE_FILE_BYTES if smoke else FILE_BYTES
    memory_size = SMOKE_MEMORY_FILE_BYTES if smoke else MEMORY_FILE_BYTES
    per_case = min(MAX_FILES_PER_CASE, MAX_CASE_BYTES // size)
    api = Api(hub)
    try:
        if not routed:
            prepare_directory(api)
        cases = Cases(api, hub)
        memory_cases = cases.new(MEMORY_UPLOADS)
        if smoke:
            slots = cases.slots(cases.new(math.ceil(SMOKE_UPLOADS / per_case)), per_case)[:SMOKE_UPLOADS]
        cases.settle()
        pids = cpu.processes(hub)
        watched = {"intake": pids["intake"], "gateway": pids["gateway"]}
        say(f"uploads: memory, {MEMORY_UPLOADS} concurrent {_mib(memory_size)} uploads on a hub that has taken none")
        cold = _memory(memory_cases, memory_size, watched, tmp)
        if not smoke:
            warm_slots = cases.slots(cases.new(math.ceil(CONCURRENCY * 8 / per_case)), per_case)
            cases.settle()
            warm_up = _closed_loop(warm_slots, size, WARM_UP_S, tmp)
            _check(warm_up, "the hub's warm-up")
            # Enough cases for the run at half again the warm-up's rate (the run ends early if they run out).
            slots = cases.slots(cases.new(math.ceil(1.5 * warm_up.per_s * seconds / per_case) + 1), per_case)
            cases.settle()
        say(
            f"uploads: {_mib(size)} files through the one base URL, {CONCURRENCY} at a time,"
            f" {_how_long(seconds, smoke)} ({len(slots)} slots on {math.ceil(len(slots) / per_case)} cases, at most"
            f" {per_case} each) ..."
        )
        before = {name: cpu.cpu_seconds(pid) for name, pid in pids.items()}
        run = _closed_loop(slots, size, None if smoke else seconds, tmp)
        after = {name: cpu.cpu_seconds(pid) for name, pid in pids.items()}
        _check(run, "the hub")
        say(
            f"uploads: {run.per_s:,.1f} uploads/s ({run.mib_per_s:,.0f} MiB/s), p50 {run.p50_ms:.0f} ms,"
            f" {run.per_s / bare['per_s']:.2f}× the bare endpoint"
        )
        if not smoke:
            cases.settle()
        say(f"uploads: memory again, {MEMORY_UPLOADS} concurrent {_mib(memory_size)} uploads, after those")
        warm = _memory(memory_cases, memory_size, watched, tmp)
    finally:
        api.client.close()
    delta = {name: max(cold[name]["delta_mib"], warm[name]["delta_mib"]) for name in watched}
    return {
        "hub": run.asdict() | {"cases": cases.count, "per_case": per_case},
        "ratio": run.per_s / bare["per_s"],
        "cpu_ms_per_upload": {name: _per_upload(after[name] - before[name], run) for name in pids},
        "load_cpu_ms_per_upload": _per_upload(run.client_cpu_s, run),
        "memory": {
            "uploads": MEMORY_UPLOADS,
            "size": memory_size,
            "cold": cold,
            "warm": warm,
            "delta_mib": delta,
        },
    }


def measure(hub: Hub, tmp: Path, *, seconds: float, smoke: bool, say: Say, routed: bool = False) -> dict[str, Any]:
    """The bare endpoint, then the hub, in one run: what `make bench` reports as `upload`."""
    bare = measure_bare(tmp, seconds=seconds, smoke=smoke, say=say)
    hub_part = measure_hub(hub, tmp, seconds=seconds, smoke=smoke, bare=bare, say=say, routed=routed)
    return {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "size": SMOKE_FILE_BYTES if smoke else FILE_BYTES,
        "concurrency": CONCURRENCY,
        "seconds": None if smoke else seconds,
        "smoke_uploads": SMOKE_UPLOADS if smoke else None,
        "bare": bare,
        **hub_part,
    }


def _how_long(seconds: float, smoke: bool) -> str:
    return f"{SMOKE_UPLOADS} uploads" if smoke else f"for {seconds:.0f}s"


class Cases:
    """Complaints submitted through the one base URL for the uploads, with their receipts."""

    def __init__(self, api: Api, hub: Hub):
        self.api = api
        self.hub = hub
        self.count = 0

    def new(self, n: int) -> list[dict[str, str]]:
        made = [self.api.submit(**wrk.BODY) for _ in range(n)]
        self.count += n
        return [{"url": self._url(c["tracking_id"]), "receipt": c["receipt"]} for c in made]

    def _url(self, tracking_id: str) -> str:
        return f"{self.hub.base_url}/api/v1/complaints/{tracking_id}/attachments"

    @staticmethod
    def slots(cases: list[dict[str, str]], per_case: int) -> list[dict[str, Any]]:
        """Each case `per_case` times, round by round, so that the uploads in flight are to different cases."""
        return [{"url": c["url"], "headers": {"X-Receipt": c["receipt"]}} for _ in range(per_case) for c in cases]

    def settle(self) -> None:
        """Until every complaint is in its agency inbox, and the hub is quiet."""
        cpu.wait_until_filed(self.hub, cpu.count(self.hub.data_dir / "intake.db", "complaints"))


def _closed_loop(
    slots: list[dict[str, Any]], size: int, seconds: float | None, tmp: Path, *, cycle: bool = False
) -> upload_load.Uploaded:
    return upload_load.run(slots, concurrency=CONCURRENCY, seconds=seconds, size=size, spec_dir=tmp, cycle=cycle)


def _memory(cases: list[dict[str, str]], size: int, pids: dict[str, int], tmp: Path) -> dict[str, dict[str, Any]]:
    """Each process's idle and peak resident memory around `MEMORY_UPLOADS` uploads at once, one to each case."""
    time.sleep(1.0)
    with PeakRss(pids) as peak:
        run = upload_load.run(Cases.slots(cases, 1), concurrency=len(cases), seconds=None, size=size, spec_dir=tmp)
    _check(run, "the memory run")
    return peak.result()


class PeakRss:
    """The idle resident memory of some processes when entered, and their peak until exited."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.idle: dict[str, int] = {}
        self.sampled: dict[str, int] = {}
        self.high_water: dict[str, int | None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRss:
        self.idle = {name: status_kib(pid, "VmRSS") for name, pid in self.pids.items()}
        self.sampled = dict(self.idle)
        self._reset = {name: reset_high_water(pid) for name, pid in self.pids.items()}
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self.high_water = {
            name: status_kib(pid, "VmHWM") if self._reset[name] else None for name, pid in self.pids.items()
        }

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            for name, pid in self.pids.items():
                self.sampled[name] = max(self.sampled[name], status_kib(pid, "VmRSS"))

    def result(self) -> dict[str, dict[str, Any]]:
        out = {}
        for name in self.pids:
            hwm = self.high_water[name]
            peak = hwm if hwm is not None else self.sampled[name]
            out[name] = {
                "idle_mib": self.idle[name] / 1024,
                "peak_mib": peak / 1024,
                "delta_mib": (peak - self.idle[name]) / 1024,
                "sampled_peak_mib": self.sampled[name] / 1024,
                "how": "VmHWM" if hwm is not None else "sampled VmRSS",
            }
        return out


def status_kib(pid: int, field: str) -> int:
    """A field of /proc/PID/status, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(f"no {field} for pid {pid}")


def reset_high_water(pid: int) -> bool:
    """Set the process's VmHWM to its VmRSS now (Linux 4.0 and later); False where that is not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _check(run: upload_load.Uploaded, what: str) -> None:
    if run.failed or not run.uploads:
        raise RuntimeError(f"uploads to {what}: {run.uploads} answered 201, the others {run.statuses}")


def _per_upload(cpu_s: float, run: upload_load.Uploaded) -> float:
    return cpu_s * 1000 / max(run.uploads, 1)


def _mib(size: int) -> str:
    return f"{size / MIB:g} MiB"
