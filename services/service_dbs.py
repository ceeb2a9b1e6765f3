"""Where each service keeps its database, as `simpul up` sets it: <data-dir>/<service>.db, or one PostgreSQL schema
each. For the commands that read or rewrite the databases directly (`simpul audit verify`, `simpul reencrypt`)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.registry import BY_NAME, SERVICES


@dataclass(frozen=True)
class ServiceDatabase:
    service: str
    url: str
    schema: str | None
    where: str


def add_database_arguments(parser: Any) -> None:
    parser.add_argument("--data-dir", default="./var", help="where `simpul up` keeps the SQLite databases")
    parser.add_argument("--postgres", metavar="URL", help="the PostgreSQL that `simpul up --postgres` used")
    parser.add_argument("--schema-prefix", default="simpul_", help="schema name prefix with --postgres")
    parser.add_argument("--service", choices=sorted(BY_NAME), action="append", help="only this service")


def service_databases(args: argparse.Namespace) -> list[ServiceDatabase]:
    names = args.service or [s.name for s in SERVICES]
    if args.postgres:
        return [
            ServiceDatabase(name, args.postgres, f"{args.schema_prefix}{name}", f"schema {args.schema_prefix}{name}")
            for name in names
        ]
    data_dir = Path(args.data_dir).resolve()
    return [
        ServiceDatabase(name, f"sqlite+aiosqlite:///{data_dir / f'{name}.db'}", None, str(data_dir / f"{name}.db"))
        for name in names
    ]


async def database_exists(target: ServiceDatabase) -> bool:
    if target.schema is None:
        return Path(target.where).is_file()
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(target.url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"), {"name": target.schema}
            )
            return found.first() is not None
    finally:
        await engine.dispose()


def say(line: str) -> None:
    print(line, flush=True)
