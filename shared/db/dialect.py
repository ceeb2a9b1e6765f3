"""The few statements whose SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import KeyedColumnElement

Offered = ReadOnlyColumnCollection[str, KeyedColumnElement[Any]]
Guard = Callable[[Table, Offered], ColumnElement[bool]]
"""(the table, the offered row `excluded`) -> whether the offered row replaces the stored one."""


def dialect_of(conn: object) -> str:
    """The dialect name of an AsyncSession or AsyncConnection."""
    bind = getattr(conn, "bind", None) or conn
    return str(bind.dialect.name)  # type: ignore[union-attr]


def insert_ignore(dialect_name: str, table: Table, index_elements: list[str] | None = None) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING for either dialect."""
    stmt: Any = postgresql.insert(table) if dialect_name == "postgresql" else sqlite.insert(table)
    return stmt.on_conflict_do_nothing(index_elements=index_elements)  # type: ignore[no-any-return]


@cache
def upsert(
    dialect_name: str, table: Table, key: str, columns: tuple[str, ...], updated: tuple[str, ...], guard: Guard
) -> Insert:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET `updated` WHERE guard(table, excluded), one per shape, built once.

    Execute it with a value for every one of `columns` (by column name): a statement kept and used again skips
    building it and its cache key each time. `guard` must be a module-level function, so that the shape repeats.
    """
    stmt: Any = postgresql.insert(table) if dialect_name == "postgresql" else sqlite.insert(table)
    stmt = stmt.values({name: bindparam(f"v_{name}", type_=table.c[name].type) for name in columns})
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[key],
        set_={name: stmt.excluded[name] for name in updated},
        where=guard(table, stmt.excluded),
    )


def upsert_params(values: dict[str, Any]) -> dict[str, Any]:
    """The values, named as `upsert` binds them."""
    return {f"v_{name}": value for name, value in values.items()}


def count_up(dialect_name: str, table: Table, keys: dict[str, Any], counter: str, values: dict[str, Any]) -> Insert:
    """INSERT the row at `keys` with `counter` 1 (and `values`), or add 1 to the counter of the row there; RETURNING
    the count. Concurrent callers are counted one at a time (the row's lock on PostgreSQL, the one writer on SQLite)."""
    stmt: Any = postgresql.insert(table) if dialect_name == "postgresql" else sqlite.insert(table)
    stmt = stmt.values({**keys, **values, counter: 1})
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=list(keys), set_={counter: table.c[counter] + 1}
    ).returning(table.c[counter])
