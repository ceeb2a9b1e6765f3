"""An open-loop load at a steady rate: the n-th complaint is sent at start + n / rate, whatever the answers so far.

wrk's paced mode waits between a connection's answer and its next request, so a slower hub is offered less: the
end-to-end runs use this instead. It runs as a separate process (httpx on uvloop, up to 64 connections) and prints
one JSON object with the same fields as tests/bench/wrk.py's result.

    python -m tests.bench.paced URL RATE SECONDS
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from dataclasses import asdict

import httpx
import orjson
import uvloop

from tests.bench import wrk

TIMEOUT_S = wrk.TIMEOUT_S


async def offer(url: str, rate: float, seconds: float, connections: int = wrk.CONNECTIONS) -> wrk.WrkResult:
    """POST the bench body `rate` times a second for `seconds`; a request waits only for a free connection."""
    body = orjson.dumps(wrk.BODY)
    headers = {"Content-Type": "application/json"}
    total = max(1, round(rate * seconds))
    free = asyncio.Semaphore(connections)
    statuses: list[int] = []
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=TIMEOUT_S) as client:

        async def one() -> None:
            started = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers=headers)
                statuses.append(response.status_code)
            except httpx.HTTPError:
                statuses.append(0)
            finally:
                latencies.append(1000 * (time.perf_counter() - started))
                free.release()

        start = time.perf_counter()
        tasks = []
        for n in range(total):
            pause = start + n / rate - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            await free.acquire()  # all 64 busy: this one goes late, and the rate offered falls (it counts as such)
            tasks.append(asyncio.create_task(one()))
        sent_for = time.perf_counter() - start + 1 / rate
        await asyncio.gather(*tasks)
    ok = sum(1 for s in statuses if 200 <= s < 300)
    errors = statuses.count(0)
    latencies.sort()
    return wrk.WrkResult(
        requests=len(statuses),
        non_2xx=len(statuses) - ok - errors,
        errors=errors,
        seconds=sent_for,
        rate=len(statuses) / sent_for,
        p50_ms=latencies[len(latencies) // 2],
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    )


def run(url: str, rate: float, seconds: float) -> wrk.WrkResult:
    """`offer` in a process of its own (the load does not share the caller's interpreter)."""
    argv = [sys.executable, "-m", "tests.bench.paced", url, str(rate), str(seconds)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 120).stdout
    return wrk.WrkResult(**json.loads(out))


def main() -> None:
    url, rate, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result = runner.run(offer(url, rate, seconds))
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
