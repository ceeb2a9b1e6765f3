"""The `intake-reference` consumer: category.changed into the replica, a newer version over an older one only."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from intake_svc.context import IntakeContext
from intake_svc.models import Base, CategoryReplica
from shared.bus.handlers import Handlers
from shared.db.newer import write_if_newer
from shared.events import Envelope
from shared.events.contracts import CategoryChanged
from shared.logging import get_logger

log = get_logger(__name__)

handlers = Handlers[IntakeContext]()

_CATEGORIES = Base.metadata.tables[CategoryReplica.__tablename__]


@handlers.on(CategoryChanged)
async def on_category_changed(
    session: AsyncSession, envelope: Envelope, data: CategoryChanged, ctx: IntakeContext
) -> None:
    values = data.model_dump(mode="json")
    written = await write_if_newer(session, _CATEGORIES, values, key="code", version="version")
    log.info("category_replicated", code=data.code, version=data.version, applied=written)
