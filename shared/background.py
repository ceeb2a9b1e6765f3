"""What background workers share: their loop, retry delays, and database units that outlive a cancel.

A worker calls `poll_until_stopped` with one unit of work (`once`). The loop runs it again at once while it reports
more work, and otherwise waits for its wake event (set when a transaction that made work for it commits), if it has
one, or the poll interval, whichever comes first. A failing unit is logged and run again after a pause (its
`Backoff`). It returns when the service stops.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from shared.logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")

_MAX_DOUBLINGS = 62
"""Beyond this many doublings any cap is reached; it keeps 2**n a finite float."""


def full_jitter(attempts: int, base: float, cap: float) -> float:
    """Seconds before the next try after `attempts` failed ones: uniform in [0, min(cap, base * 2^(attempts-1))]."""
    ceiling = min(cap, base * 2.0 ** min(max(attempts - 1, 0), _MAX_DOUBLINGS))
    return random.uniform(0, ceiling)


@dataclass(frozen=True)
class Backoff:
    """The pause after a failing unit of work: `first` seconds, doubled after each failure in a row, up to `cap`."""

    first: float = 0.2
    cap: float = 10.0

    def after(self, pause: float) -> float:
        """The pause after one more failure, when the last one was `pause`."""
        return min(pause * 2, self.cap)


async def poll_until_stopped(
    once: Callable[[], Awaitable[bool]],
    *,
    stopping: asyncio.Event,
    interval: float,
    name: str,
    wake: asyncio.Event | None = None,
    backoff: Backoff = Backoff(),
) -> None:
    """Run `once` until `stopping` is set; it returns True when more work may be waiting right away.

    Between units it waits for `wake` (if given), `stopping` or `interval` seconds. A failing unit is logged as
    `<name>_failed` and run again after the backoff's pause (cut short by `stopping`).
    """
    pause = backoff.first
    waking = (stopping,) if wake is None else (wake, stopping)
    while not stopping.is_set():
        raise_if_cancelling()
        if wake is not None:
            wake.clear()
        try:
            more = await once()
            pause = backoff.first
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(f"{name}_failed", worker=name, error=repr(exc), retry_in=pause)
            await wait_for_any(stopping, timeout=pause)
            pause = backoff.after(pause)
            continue
        if more:
            continue
        await wait_for_any(*waking, timeout=interval)


async def wait_for_any(*events: asyncio.Event, timeout: float) -> None:
    """Until one of `events` is set or `timeout` seconds have passed.

    asyncio.wait, not wait_for: on Python 3.11 wait_for can swallow a cancel that races its timeout.
    """
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def made_work(session: AsyncSession | Session, flag: str) -> None:
    """Note on a transaction that it made work for the worker waiting on `flag`: its commit wakes that worker."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info[flag] = True


def wake_on_commit(flag: str, wake: asyncio.Event) -> Callable[[Session], None]:
    """An `after_commit` listener that wakes a worker only for transactions marked with `made_work(…, flag)`; a
    worker woken by every commit would wake itself with its own and never rest."""

    def on_commit(session: Session) -> None:
        if session.info.pop(flag, False):
            wake.set()

    return on_commit


async def finish_even_if_cancelled(aw: Awaitable[T]) -> T:
    """Run a database unit to its end even when the worker is cancelled meanwhile, then honour the cancel.

    Cancelling a task in the middle of a statement can strand the connection (SQLite has only one), so
    a worker is cancelled only between units of work.
    """
    task = asyncio.ensure_future(aw)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait({task})
        raise


def raise_if_cancelling() -> None:
    """Honour a cancel that a library swallowed (asyncio.wait_for on 3.11 may): the task still counts it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
