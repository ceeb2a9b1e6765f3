"""The few statements whose SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def dialect_of(conn: object) -> str:
    """The dialect name of an AsyncSession or AsyncConnection."""
    bind = getattr(conn, "bind", None) or conn
    return str(bind.dialect.name)  # type: ignore[union-attr]


def insert_ignore(dialect_name: str, table: Table, index_elements: list[str] | None = None) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING for either dialect."""
    stmt: Any = postgresql.insert(table) if dialect_name == "postgresql" else sqlite.insert(table)
    return stmt.on_conflict_do_nothing(index_elements=index_elements)  # type: ignore[no-any-return]
