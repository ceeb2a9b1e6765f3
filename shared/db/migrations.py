"""Alembic, one migration set per service, run from code (no alembic.ini): `simpul migrate` and `simpul up`."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, event, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.crypto import Sealer
from shared.db.engine import SECURE_DELETE, ensure_sqlite_folder, is_sqlite


def alembic_config(
    service_package: str, url: str, schema: str | None, encryption_keys: list[str] | None = None
) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", f"{service_package}:migrations")
    cfg.attributes["url"] = url
    cfg.attributes["schema"] = schema
    cfg.attributes["encryption_keys"] = encryption_keys
    return cfg


def upgrade(
    service_package: str,
    url: str,
    schema: str | None = None,
    revision: str = "head",
    *,
    encryption_keys: list[str] | None = None,
) -> None:
    """Apply migrations. Call from a thread with no running event loop (env.py runs its own).

    `encryption_keys` are the service's own keys, for the migrations that seal data they find in plaintext.
    """
    ensure_sqlite_folder(url)
    command.upgrade(alembic_config(service_package, url, schema, encryption_keys), revision)


async def upgrade_async(
    service_package: str, url: str, schema: str | None = None, *, encryption_keys: list[str] | None = None
) -> None:
    await asyncio.to_thread(upgrade, service_package, url, schema, encryption_keys=encryption_keys)


def migration_sealer() -> Sealer:
    """The service's own keys, inside a migration that must seal what it finds in plaintext."""
    keys = context.config.attributes.get("encryption_keys")
    if not keys:
        raise RuntimeError(
            "this migration seals personal data held in plaintext and needs the service's encryption keys: "
            "run it as `python -m <service> migrate` (or `simpul migrate`) with SIMPUL_<SERVICE>_ENCRYPTION_KEYS set"
        )
    return Sealer(list(keys))


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's migrations/env.py."""
    cfg = context.config
    url: str = cfg.attributes["url"]
    schema: str | None = cfg.attributes.get("schema")
    asyncio.run(_run_online(url, schema, target_metadata))


async def _run_online(url: str, schema: str | None, target_metadata: MetaData) -> None:
    connect_args: dict[str, Any] = {}
    if schema and not is_sqlite(url):
        connect_args["server_settings"] = {"search_path": schema}
    engine = create_async_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    if is_sqlite(url):

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(SECURE_DELETE)
            cur.close()

    try:
        async with engine.connect() as conn:
            if schema and not is_sqlite(url):
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                await conn.commit()
            await conn.run_sync(_do_run, schema if not is_sqlite(url) else None, target_metadata)
    finally:
        await engine.dispose()


def _do_run(connection: Connection, schema: str | None, target_metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table_schema=schema,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
