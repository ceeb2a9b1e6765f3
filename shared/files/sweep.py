"""The orphan sweep: an object that no record names, older than the grace period, is what a crash between storing a
file and committing its record left behind; it is removed."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
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


class OrphanSweep:
    """Removes what a crash left in a bucket: objects that no record names, and chunks that no object's metadata
    names (a put that never finished). Only what has been so for longer than the grace period: an upload in flight
    has stored its object, or its chunks, but not yet committed its record."""

    def __init__(self, db: Database, table: Table, store: FileStore, clock: Clock, grace: timedelta):
        self.db, self.table, self.store, self.clock, self.grace = db, table, store, clock, grace
        self._partial_since: dict[str, datetime] = {}

    async def run(self) -> int:
        """One pass; how many objects and sets of chunks it removed."""
        now = self.clock.now()
        objects = await self.store.objects()
        removed = await self._objects_without_records(
            [o.name for o in objects if o.mtime and o.mtime < now - self.grace]
        )
        return removed + await self._chunks_without_objects({o.nuid for o in objects}, now)

    async def _objects_without_records(self, names: list[str]) -> int:
        removed = 0
        for start in range(0, len(names), SWEEP_BATCH):
            batch = names[start : start + SWEEP_BATCH]
            async with self.db.session() as session:
                known = await records.known_objects(session, self.table, batch)
            for name in batch:
                if name not in known:
                    await self.store.delete(name)
                    removed += 1
                    log.warning("orphan_file_removed", object_name=name)
        return removed

    async def _chunks_without_objects(self, named: set[str], now: datetime) -> int:
        partial = await self.store.chunk_sets() - named
        self._partial_since = {nuid: self._partial_since.get(nuid, now) for nuid in partial}
        removed = 0
        for nuid, since in list(self._partial_since.items()):
            if since < now - self.grace:
                await self.store.purge_chunks(nuid)
                del self._partial_since[nuid]
                removed += 1
                log.warning("orphan_chunks_removed", nuid=nuid)
        return removed


def orphan_sweep_worker(table: Table) -> Callable[[Runtime[Any]], Coroutine[Any, Any, None]]:
    """A worker that sweeps the service's own bucket (`runtime.context.uploads.own`) now and then."""

    async def sweep_orphan_files(runtime: Runtime[Any]) -> None:
        settings = runtime.settings
        assert isinstance(settings, AttachmentSettings)
        grace = timedelta(seconds=settings.attachment_orphan_grace_s)
        store: FileStore = runtime.context.uploads.own

        sweep = OrphanSweep(runtime.db, table, store, runtime.clock, grace)

        async def once() -> bool:
            if not await runtime.bus.wait_ready_or(runtime.stopping):
                return False
            await sweep.run()
            return False

        await poll_until_stopped(
            once,
            stopping=runtime.stopping,
            interval=max(1.0, grace.total_seconds() / 3),
            name="orphan_sweep",
            backoff=Backoff(10.0, 300.0),
        )

    return sweep_orphan_files
