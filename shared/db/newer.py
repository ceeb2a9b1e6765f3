"""Apply if newer: how a replica keeps a row from events that may come twice, late or out of order.

Each event carries a version (a counter, or the time it occurred); a row takes the event's values only when that
version is newer than the one it holds. The test and the write are one statement (an UPDATE ... WHERE, or an
INSERT ... ON CONFLICT DO UPDATE ... WHERE), so that of two replicas racing on one row the older event never wins,
on PostgreSQL as on SQLite. Each statement is built once per shape and used again.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import Insert, Update

from shared.db.dialect import Guard, Offered, dialect_of, upsert, upsert_params
from shared.db.results import rows_affected


async def write_if_newer(
    conn: AsyncSession | AsyncConnection,
    table: Table,
    values: Mapping[str, Any],
    *,
    key: str,
    version: str,
    insert: bool = True,
    same_applies: bool = False,
) -> bool:
    """Write `values` (which hold `key` and `version`) into the row of `table` they name if `version` is newer there;
    whether it was written.

    With `insert`, a missing row is inserted; without, it stays missing (and False is returned). With
    `same_applies`, an equal version is written again (for versions that are times, where an event's own time
    comes again when it is redelivered).
    """
    columns = tuple(values)
    if key not in values or version not in values:
        raise ValueError(f"the values must hold the key {key!r} and the version {version!r}")
    if insert:
        updated = tuple(name for name in columns if name != key)
        stmt: Insert | Update = upsert(dialect_of(conn), table, key, columns, updated, _newer(version, same_applies))
    else:
        stmt = _update_if_newer(table, key, version, columns, same_applies)
    result = await conn.execute(stmt, upsert_params(dict(values)))
    return bool(rows_affected(result))


def _is_newer(stored: ColumnElement[Any], offered: ColumnElement[Any], same_applies: bool) -> ColumnElement[bool]:
    return stored <= offered if same_applies else stored < offered


@cache
def _newer(version: str, same_applies: bool) -> Guard:
    """The upsert's guard; one function per (version, same_applies), so that `upsert` builds each shape once."""

    def guard(table: Table, offered: Offered) -> ColumnElement[bool]:
        return _is_newer(table.c[version], offered[version], same_applies)

    return guard


@cache
def _update_if_newer(table: Table, key: str, version: str, columns: tuple[str, ...], same_applies: bool) -> Update:
    """UPDATE table SET columns WHERE key = :key AND version is older, bound as `upsert_params` names them."""
    params = {name: bindparam(f"v_{name}", type_=table.c[name].type) for name in columns}
    return (
        update(table)
        .where(table.c[key] == params[key], _is_newer(table.c[version], params[version], same_applies))
        .values({name: param for name, param in params.items() if name != key})
    )
