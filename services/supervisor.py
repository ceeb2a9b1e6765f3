"""Starts the service processes, restarts any that dies, and stops them all cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

Say = Callable[[str], None]


@dataclass
class ManagedProcess:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    log_path: Path
    restarts: int = 0
    nice: int = 0
    """Added to the process's CPU niceness when it starts (and on every restart)."""
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)
    started_at: float = 0.0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def spawn(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv, env=self.env, stdout=log, stderr=log, stdin=asyncio.subprocess.DEVNULL
            )
        finally:
            log.close()
        if self.nice:
            with contextlib.suppress(OSError):
                niceness = min(os.getpriority(os.PRIO_PROCESS, 0) + self.nice, 19)
                os.setpriority(os.PRIO_PROCESS, self.process.pid, niceness)
        self.started_at = time.monotonic()

    async def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.returncode is not None:
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
                try:
                    if (await client.get(f"{self.base_url}/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} not healthy after {timeout}s; see {self.log_path}")

    async def terminate(self, timeout: float = 15.0) -> None:
        proc = self.process
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


class Supervisor:
    """Keeps each process alive: one that dies is started again, with backoff if it keeps dying."""

    def __init__(self, processes: list[ManagedProcess], say: Say, on_change: Callable[[], None] | None = None):
        self.processes = processes
        self.say = say
        self.on_change = on_change or (lambda: None)
        self._stopping = False
        self._watchers: list[asyncio.Task[None]] = []

    async def start_all(self) -> None:
        for p in self.processes:
            self.say(f"  starting {p.name:<8} on 127.0.0.1:{p.port} ...")
            await p.spawn()
        for p in self.processes:
            await p.wait_healthy()
            self.say(f"  {p.name:<8} healthy (pid {p.pid})")
        self.on_change()
        self._watchers = [asyncio.create_task(self._watch(p), name=f"watch-{p.name}") for p in self.processes]

    async def _watch(self, p: ManagedProcess) -> None:
        backoff = 0.5
        while not self._stopping:
            assert p.process is not None
            code = await p.process.wait()
            if self._stopping:
                return
            ran = time.monotonic() - p.started_at
            backoff = 0.5 if ran > 30 else min(backoff * 2, 10.0)
            self.say(f"  {p.name} (pid {p.pid}) exited with {code}; restarting in {backoff:.1f}s")
            await asyncio.sleep(backoff)
            if self._stopping:
                return
            p.restarts += 1
            await p.spawn()
            self.on_change()
            try:
                await p.wait_healthy()
                self.say(f"  {p.name} restarted (pid {p.pid}, restart #{p.restarts})")
            except (RuntimeError, TimeoutError) as exc:
                self.say(f"  {p.name} did not come back healthy: {exc}")

    async def stop_all(self) -> None:
        self._stopping = True
        for w in self._watchers:
            w.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        await asyncio.gather(*(p.terminate() for p in self.processes))


def python_module_argv(package: str) -> list[str]:
    return [sys.executable, "-m", package]


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
