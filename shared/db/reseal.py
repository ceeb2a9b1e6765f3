"""Re-sealing a service's database under its newest key, after a key rotation (`simpul reencrypt`).

Every column that holds sealed data is named `*_sealed`; a table with such columns and a one-column primary key is
walked in key order, in batches of one transaction each. A value already under the newest key is left alone, so a
second run changes nothing. Each row is written back only if it still holds what was read: a service that changed
it meanwhile wins, and its value is under a key the service holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, MetaData, Table, and_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.crypto import Sealer
from shared.db.results import rows_affected

SEALED_SUFFIX = "_sealed"
BATCH = 500


@dataclass(frozen=True)
class SealedTable:
    table: Table
    key: Column[Any]
    columns: tuple[Column[Any], ...]


@dataclass
class ResealCount:
    rows: int = 0
    resealed: int = 0
    """Values sealed again under the newest key."""
    current: int = 0
    """Values that were under the newest key already."""
    changed_meanwhile: int = 0
    """Rows a service rewrote between the read and the write; they were left as the service wrote them."""


def sealed_tables(metadata: MetaData) -> list[SealedTable]:
    found = []
    for table in metadata.sorted_tables:
        columns = tuple(c for c in table.columns if c.name.endswith(SEALED_SUFFIX))
        keys = list(table.primary_key.columns)
        if columns:
            if len(keys) != 1:
                raise ValueError(f"{table.name} holds sealed columns but has no one-column primary key")
            found.append(SealedTable(table, keys[0], columns))
    return found


async def reseal_database(
    engine: AsyncEngine,
    metadata: MetaData,
    sealer: Sealer,
    *,
    batch: int = BATCH,
    progress: Callable[[str, ResealCount], None] | None = None,
) -> dict[str, ResealCount]:
    """Re-seal every sealed value under the newest key; a value no key opens raises ValueError naming its row."""
    counts: dict[str, ResealCount] = {}
    for sealed in sealed_tables(metadata):
        count = counts.setdefault(sealed.table.name, ResealCount())
        last: Any = None
        while True:
            async with engine.begin() as conn:
                query = select(sealed.key, *sealed.columns).order_by(sealed.key).limit(batch)
                if last is not None:
                    query = query.where(sealed.key > last)
                rows = (await conn.execute(query)).all()
                for row in rows:
                    await _reseal_row(conn, sealed, sealer, row, count)
            if not rows:
                break
            last = rows[-1][0]
            if progress is not None:
                progress(sealed.table.name, count)
    return counts


async def _reseal_row(conn: Any, sealed: SealedTable, sealer: Sealer, row: Any, count: ResealCount) -> None:
    key, *values = row
    count.rows += 1
    updates: dict[str, str] = {}
    for column, value in zip(sealed.columns, values, strict=True):
        if value is None:
            continue
        if sealer.is_current(value):
            count.current += 1
            continue
        try:
            updates[column.name] = sealer.reseal(value)
        except ValueError as exc:
            raise ValueError(f"{sealed.table.name}.{column.name} of {key!r}: no configured key opens it") from exc
    if not updates:
        return
    unchanged = and_(
        sealed.key == key, *(c.is_not_distinct_from(v) for c, v in zip(sealed.columns, values, strict=True))
    )
    result = await conn.execute(sealed.table.update().where(unchanged).values(updates))
    if rows_affected(result) == 1:
        count.resealed += len(updates)
    else:
        count.changed_meanwhile += 1
