"""The faults, each injected into a running hub while a burst is under way. Every process is stopped by its PID.

nats-server is a child of `simpul up`, whose watcher starts it again within half a second. To keep the broker down
for a chosen time, `BrokerOutage` stops it and then takes its port (a listener that hangs up on every connection,
as a host whose broker is gone does), so the watcher's restarts fail until the outage ends; then the watcher's next
try brings the same server back on the same port, with its store.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.chaos.burst import Burst
from tests.chaos.hubs import ChaosHub, unpublished
from tests.chaos.probes import NAMES, readiness, service_url

NATS_DOWN_S = 3.0
POSTGRES_DOWN_S = 3.0


@dataclass
class FaultContext:
    chaos: ChaosHub
    burst: Burst
    injected_at: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def injected(self) -> None:
        if not self.injected_at:
            self.injected_at = time.monotonic()


@dataclass(frozen=True)
class Fault:
    name: str
    label: str
    inject: Callable[[FaultContext], Awaitable[None]]
    needs_private_postgres: bool = False


# Services -------------------------------------------------------------------------------------------------------


def _kill(ctx: FaultContext, names: tuple[str, ...], sig: signal.Signals) -> dict[str, int]:
    pids = {n: ctx.chaos.hub.service_pid(n) for n in names}
    ctx.injected()
    for pid in pids.values():
        os.kill(pid, sig)
    ctx.notes.setdefault("stopped", []).extend(f"{n}:{pid}" for n, pid in pids.items())
    return pids


async def wait_restarted(ctx: FaultContext, old: dict[str, int], timeout: float = 60.0) -> None:
    """Until each service has a new PID (the supervisor started it again) that answers /healthz."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        for name, pid in old.items():
            while True:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{name} was not restarted within {timeout}s")
                if ctx.chaos.hub.service_pid(name) != pid:
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(f"{service_url(ctx.chaos.hub, name)}/healthz")).status_code == 200:
                            break
                await asyncio.sleep(0.1)


def sigkill(*names: str) -> Callable[[FaultContext], Awaitable[None]]:
    async def inject(ctx: FaultContext) -> None:
        await wait_restarted(ctx, _kill(ctx, names, signal.SIGKILL))

    return inject


async def sigterm_each(ctx: FaultContext) -> None:
    """Stop each service in turn with SIGTERM, a seventh of the burst apart: each must finish what it holds and
    exit 0 (the supervisor's log says how each exited)."""
    pids: dict[str, int] = {}
    for i, name in enumerate(NAMES):
        await ctx.burst.wait_accepted(ctx.burst.size * (i + 2) // 7)
        pids |= _kill(ctx, (name,), signal.SIGTERM)
        ctx.notes.setdefault("signalled at", []).append(round(time.monotonic() - ctx.injected_at, 1))
    await wait_restarted(ctx, pids)
    ctx.notes["restarted at"] = round(time.monotonic() - ctx.injected_at, 1)
    lines = ctx.chaos.hub.log_path.read_text().splitlines()
    codes = {}
    for name, pid in pids.items():
        exited = f"{name} (pid {pid}) exited with "
        line = next((ln for ln in lines if exited in ln), "")
        codes[name] = line.split(exited)[-1].split(";")[0] if line else "?"
    ctx.notes["exit codes"] = codes
    assert all(code == "0" for code in codes.values()), f"a service did not exit cleanly on SIGTERM: {codes}"


# The broker -----------------------------------------------------------------------------------------------------


class BrokerOutage:
    """Stops the hub's nats-server (SIGTERM, by its PID) and keeps it down until `end`."""

    def __init__(self, chaos: ChaosHub):
        self.chaos = chaos
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def begin(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        port = int(self.chaos.hub.state()["nats"]["port"])
        while self._sock is None:
            if time.monotonic() > deadline:
                raise AssertionError("could not take the broker's port")
            pid = int(self.chaos.hub.state()["nats"]["pid"])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            # Take the port as soon as the server lets it go; if the watcher was quicker, stop its new server too.
            while self._sock is None and int(self.chaos.hub.state()["nats"]["pid"]) == pid:
                self._sock = _listen(port)
                if self._sock is None:
                    time.sleep(0.002)
        self._thread = threading.Thread(target=self._hang_up, name="broker-outage", daemon=True)
        self._thread.start()

    def _hang_up(self) -> None:
        assert self._sock is not None
        self._sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.close()

    def end(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _listen(port: int) -> socket.socket | None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError:
        sock.close()
        return None
    return sock


async def wait_all_ready(ctx: FaultContext, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(code == 200 for code, _ in [await asyncio.to_thread(readiness, ctx.chaos.hub, n) for n in NAMES]):
        if time.monotonic() > deadline:
            raise AssertionError(f"the services were not ready again within {timeout}s")
        await asyncio.sleep(0.2)


async def wait_all_say(ctx: FaultContext, check: str, timeout: float) -> dict[str, Any]:
    """Until every service's /readyz answers 503 with `check` not ok; what they said."""
    deadline = time.monotonic() + timeout
    while True:
        said = {n: await asyncio.to_thread(readiness, ctx.chaos.hub, n) for n in NAMES}
        if all(code == 503 and body.get("checks", {}).get(check, "ok") != "ok" for code, body in said.values()):
            return {n: body["checks"] for n, (_, body) in said.items()}
        if time.monotonic() > deadline:
            raise AssertionError(f"not every service reported {check} down: {said}")
        await asyncio.sleep(0.1)


async def nats_restart(ctx: FaultContext) -> None:
    """Stop nats-server for NATS_DOWN_S; intake must keep accepting meanwhile, and every service say NATS is down."""
    outage = BrokerOutage(ctx.chaos)
    ctx.injected()
    await asyncio.to_thread(outage.begin)
    began, accepted = time.monotonic(), ctx.burst.accepted_count
    try:
        ctx.notes["readyz while down"] = await wait_all_say(ctx, "nats", NATS_DOWN_S + 10)
        await asyncio.sleep(max(0.0, NATS_DOWN_S - (time.monotonic() - began)))
    finally:
        ctx.notes["accepted while down"] = ctx.burst.accepted_count - accepted
        outage.end()
    ctx.notes["down for"] = round(time.monotonic() - began, 1)
    await wait_all_ready(ctx)


async def relay_killed_halfway(ctx: FaultContext) -> None:
    """Stop nats-server while intake accepts most of the burst into its outbox, start it again, and SIGKILL intake
    when its relay has published about half of that backlog."""
    engine = ctx.chaos.engine("intake")
    outage = BrokerOutage(ctx.chaos)
    ctx.injected()
    try:
        await asyncio.to_thread(outage.begin)
        try:
            await asyncio.wait_for(ctx.burst.wait_accepted(ctx.burst.size * 4 // 5), 60)
            backlog = await unpublished(engine)
        finally:
            outage.end()
        ctx.notes["backlog"] = backlog
        deadline = time.monotonic() + 60
        while (left := await unpublished(engine)) > backlog // 2:
            if time.monotonic() > deadline:
                raise AssertionError(f"intake's relay did not drain its backlog: {left} of {backlog} left")
            await asyncio.sleep(0.002)
        pids = _kill(ctx, ("intake",), signal.SIGKILL)
        ctx.notes["unpublished at the kill"] = left
        ctx.notes["unpublished after the kill"] = await unpublished(engine)
    finally:
        await engine.dispose()
    assert 0 < ctx.notes["unpublished after the kill"] < backlog, "the kill landed before or after the draining"
    await wait_restarted(ctx, pids)


# The database ---------------------------------------------------------------------------------------------------


async def postgres_restart(ctx: FaultContext) -> None:
    """Stop the hub's (private) PostgreSQL for POSTGRES_DOWN_S: every service must say so on /readyz, and every
    request answer 503 with a JSON body (the burst retries those and counts anything else)."""
    pg = ctx.chaos.pg
    assert pg is not None
    ctx.injected()
    began = time.monotonic()
    await asyncio.to_thread(pg.stop)
    try:
        ctx.notes["readyz while down"] = await wait_all_say(ctx, "database", POSTGRES_DOWN_S + 10)
        await asyncio.sleep(max(0.0, POSTGRES_DOWN_S - (time.monotonic() - began)))
    finally:
        await asyncio.to_thread(pg.start)
    ctx.notes["down for"] = round(time.monotonic() - began, 1)
    await wait_all_ready(ctx)


FAULTS: tuple[Fault, ...] = (
    Fault("kill-intake", "SIGKILL intake", sigkill("intake")),
    Fault("kill-routing", "SIGKILL routing", sigkill("routing")),
    Fault("kill-agency", "SIGKILL agency", sigkill("agency")),
    Fault("kill-notify", "SIGKILL notify", sigkill("notify")),
    Fault("kill-all", "SIGKILL all four at once", sigkill(*NAMES)),
    Fault("sigterm-each", "SIGTERM each service in turn", sigterm_each),
    Fault("nats-restart", f"stop nats-server for {NATS_DOWN_S:g} s, start it again", nats_restart),
    Fault("relay-kill", "SIGKILL intake halfway through its relay publishing a backlog", relay_killed_halfway),
    Fault(
        "postgres-restart",
        f"stop PostgreSQL for {POSTGRES_DOWN_S:g} s, start it again",
        postgres_restart,
        needs_private_postgres=True,
    ),
)
