"""At start, the default category tree goes into an empty category table (an operator replaces it at will)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.exc import IntegrityError

from routing_svc.categories.service import load_tree, seed_tree
from routing_svc.settings import RoutingSettings
from shared.logging import get_logger
from shared.runtime import Runtime

log = get_logger(__name__)


async def seed_default_categories(runtime: Runtime[Any]) -> None:
    """Load `default_categories` into an empty table; a replica that loses the race to another changes nothing."""
    settings = runtime.settings
    path = settings.default_categories if isinstance(settings, RoutingSettings) else None
    if path is None:
        return
    tree = await asyncio.to_thread(load_tree, path)
    async with runtime.db.session() as session:
        try:
            if await seed_tree(session, runtime.outbox, tree, runtime.clock.now()):
                await session.commit()
        except IntegrityError:
            await session.rollback()
            log.info("default_categories_seeded_elsewhere")
