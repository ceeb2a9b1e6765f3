"""Rows that carry their own `expires_at` (Idempotency-Keys, the SMS door's daily counts): deleted once it has passed,
by a worker each service runs per table."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, delete

from shared.background import Backoff, poll_until_stopped
from shared.db.engine import Database
from shared.db.results import rows_affected
from shared.logging import get_logger

if TYPE_CHECKING:
    from shared.runtime import Runtime

log = get_logger(__name__)

PURGE_INTERVAL_S = 600.0


async def purge_expired(db: Database, table: Table, now: datetime) -> int:
    """Deletes the rows of `table` whose `expires_at` has passed; how many."""
    async with db.engine.begin() as conn:
        result = await conn.execute(delete(table).where(table.c.expires_at <= now))
    return rows_affected(result)


def purge_expired_worker(table: Table, *, what: str) -> Callable[[Runtime[Any]], Coroutine[Any, Any, None]]:
    """A worker that purges the expired rows of `table` (its `expires_at` indexed) now and then, for the service's
    lifetime; `what` names them in the log and the worker's task."""

    async def purge(runtime: Runtime[Any]) -> None:
        async def once() -> bool:
            purged = await purge_expired(runtime.db, table, runtime.clock.now())
            if purged:
                log.info(f"{what}_purged", count=purged)
            return False

        await poll_until_stopped(
            once,
            stopping=runtime.stopping,
            interval=PURGE_INTERVAL_S,
            name=f"{what}_purge",
            backoff=Backoff(PURGE_INTERVAL_S, PURGE_INTERVAL_S),
        )

    purge.__name__ = f"purge_{what}"
    return purge
