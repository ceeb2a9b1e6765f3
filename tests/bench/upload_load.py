"""The upload load: a fixed number of clients, each POSTing a multipart body with one file as soon as its last
upload is answered (a closed loop), for a while or until every slot is used. It runs as a separate process (httpx on
uvloop) and prints one JSON object (`Uploaded`).

    python -m tests.bench.upload_load SPEC.json

The spec: `slots` (each `{url, headers}`, used once, in order; with `cycle`, over and over), `concurrency`,
`seconds` (null: until the slots run out), `size` (the file's bytes). The file is a PDF's first line and random
bytes (so that nothing on the way can compress it), the same file for every upload.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import uvloop

MIB = 1024 * 1024
TIMEOUT_S = 120.0
PDF_HEAD = b"%PDF-1.4\n"
FILENAME = "bukti.pdf"


@dataclass(frozen=True)
class Uploaded:
    uploads: int
    """Answered 201."""
    failed: int
    """Answered otherwise, or not at all."""
    statuses: dict[str, int]
    seconds: float
    size: int
    p50_ms: float
    p99_ms: float
    client_cpu_s: float = 0.0
    """CPU time (user and system) of the load's own process."""

    @property
    def per_s(self) -> float:
        return self.uploads / self.seconds if self.seconds else 0.0

    @property
    def mib_per_s(self) -> float:
        return self.per_s * self.size / MIB

    def asdict(self) -> dict[str, Any]:
        return asdict(self) | {"per_s": self.per_s, "mib_per_s": self.mib_per_s}


def pdf_shaped(size: int) -> bytes:
    """`size` bytes that sniff as a PDF and do not compress."""
    return PDF_HEAD + os.urandom(size - len(PDF_HEAD))


def multipart(content: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with `content` as the file in the field `file`, and its Content-Type."""
    boundary = "simpul-bench-" + os.urandom(12).hex()
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{FILENAME}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


async def offer(
    slots: list[dict[str, Any]], concurrency: int, seconds: float | None, size: int, *, cycle: bool = False
) -> Uploaded:
    body, content_type = multipart(pdf_shaped(size))
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    queue = itertools.cycle(slots) if cycle else iter(slots)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=TIMEOUT_S) as client:
        start = time.perf_counter()
        deadline = None if seconds is None else start + seconds

        async def client_loop() -> None:
            while deadline is None or time.perf_counter() < deadline:
                slot = next(queue, None)
                if slot is None:
                    return
                started = time.perf_counter()
                try:
                    response = await client.post(
                        slot["url"], content=body, headers={**slot["headers"], "Content-Type": content_type}
                    )
                    status = str(response.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                latencies.append(1000 * (time.perf_counter() - started))
                statuses[status] = statuses.get(status, 0) + 1

        await asyncio.gather(*(client_loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    ok = statuses.get("201", 0)
    return Uploaded(
        uploads=ok,
        failed=sum(statuses.values()) - ok,
        statuses=statuses,
        seconds=elapsed,
        size=size,
        p50_ms=latencies[len(latencies) // 2] if latencies else float("nan"),
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan"),
    )


def run(
    slots: list[dict[str, Any]],
    *,
    concurrency: int,
    seconds: float | None,
    size: int,
    spec_dir: Path,
    cycle: bool = False,
) -> Uploaded:
    """`offer` in a process of its own (the load does not share the caller's interpreter)."""
    if seconds is None and cycle:
        raise ValueError("a cycle of slots needs a time limit")
    spec = spec_dir / f"upload-spec-{os.getpid()}-{time.monotonic_ns()}.json"
    fields = {"slots": slots, "concurrency": concurrency, "seconds": seconds, "size": size, "cycle": cycle}
    spec.write_text(json.dumps(fields))
    try:
        argv = [sys.executable, "-m", "tests.bench.upload_load", str(spec)]
        timeout = (seconds or 0) + TIMEOUT_S + 60
        before = _children_cpu()
        out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=timeout).stdout
        client_cpu = _children_cpu() - before
    finally:
        spec.unlink(missing_ok=True)
    answer = json.loads(out)
    answer.pop("per_s"), answer.pop("mib_per_s")
    return Uploaded(**answer | {"client_cpu_s": client_cpu})


def _children_cpu() -> float:
    """CPU time of this process's children that have ended and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result = runner.run(
            offer(spec["slots"], spec["concurrency"], spec["seconds"], spec["size"], cycle=spec["cycle"])
        )
    print(json.dumps(result.asdict()))


if __name__ == "__main__":
    main()
