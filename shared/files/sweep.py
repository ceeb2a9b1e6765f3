"""The orphan sweep: an object that no record names, older than the grace period, is what a crash between storing a
file and committing its record left behind; it is removed."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from sqlalchemy import Table

from shared.background import Backoff, poll_until_stopped
from shared.clock import Clock
from shared.db.engine import Database
from shared.files import records
from shared.files.settings import AttachmentSettings
from shared.files.store import FileStore
from shared.logging import get_logger
from shared.runtime import Runtime

log = get_logger(__name__)

SWEEP_BATCH = 500


async def sweep_orphans(db: Database, table: Table, store: FileStore, clock: Clock, grace: timedelta) -> int:
    """Remove the bucket's objects that no record names and that are older than `grace`; how many were removed."""
    cutoff = clock.now() - grace
    old = [o.name for o in await store.objects() if o.mtime is not None and o.mtime < cutoff]
    removed = 0
    for start in range(0, len(old), SWEEP_BATCH):
        names = old[start : start + SWEEP_BATCH]
        async with db.session() as session:
            known = await records.known_objects(session, table, names)
        for name in names:
            if name not in known:
                await store.delete(name)
                removed += 1
                log.warning("orphan_file_removed", object_name=name)
    return removed


def orphan_sweep_worker(table: Table) -> Callable[[Runtime[Any]], Coroutine[Any, Any, None]]:
    """A worker that sweeps the service's own bucket (`runtime.context.uploads.own`) now and then."""

    async def sweep_orphan_files(runtime: Runtime[Any]) -> None:
        settings = runtime.settings
        assert isinstance(settings, AttachmentSettings)
        grace = timedelta(seconds=settings.attachment_orphan_grace_s)
        store: FileStore = runtime.context.uploads.own

        async def once() -> bool:
            if not await runtime.bus.wait_ready_or(runtime.stopping):
                return False
            await sweep_orphans(runtime.db, table, store, runtime.clock, grace)
            return False

        await poll_until_stopped(
            once,
            stopping=runtime.stopping,
            interval=max(1.0, grace.total_seconds() / 3),
            name="orphan_sweep",
            backoff=Backoff(10.0, 300.0),
        )

    return sweep_orphan_files
