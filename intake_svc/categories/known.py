"""Which categories the hub knows, as intake's replica holds them: read from the database at most once a few
seconds per process, so that a submission costs no query."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from intake_svc.models import CategoryReplica
from shared.db.engine import Database


class KnownCategories:
    """The active category codes, cached for `ttl_s` seconds (a category created at the hub is known within that
    time of its event's arrival, in every replica of intake)."""

    def __init__(self, db: Database, ttl_s: float):
        self._db = db
        self._ttl_s = ttl_s
        self._codes: frozenset[str] = frozenset()
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    async def is_known(self, code: str) -> bool:
        return code.strip().lower() in await self._current()

    async def _current(self) -> frozenset[str]:
        if self._fresh():
            return self._codes
        async with self._lock:
            if not self._fresh():
                async with self._db.engine.connect() as conn:
                    found = await conn.execute(select(CategoryReplica.code).where(CategoryReplica.is_active.is_(True)))
                    self._codes = frozenset(found.scalars())
                self._loaded_at = time.monotonic()
        return self._codes

    def _fresh(self) -> bool:
        return self._loaded_at is not None and time.monotonic() - self._loaded_at < self._ttl_s
