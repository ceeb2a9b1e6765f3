"""Async database helpers: SQLite through aiosqlite by default, PostgreSQL through asyncpg when the URL says so."""

from shared.db.engine import Database, create_engine, is_sqlite
from shared.db.kit_tables import KitTables, add_kit_tables

__all__ = ["Database", "KitTables", "add_kit_tables", "create_engine", "is_sqlite"]
