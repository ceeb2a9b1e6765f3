"""`simpul audit verify`: recompute every service database's audit chain; report OK or the first broken link."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.registry import BY_NAME, SERVICES

PROGRESS_EVERY = 10_000


def add_audit_parser(sub: Any) -> None:
    audit = sub.add_parser("audit", help="the hash-chained audit trails: verify")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="recompute each service's audit chain; exit 1 and name the first broken link if one does not hold",
    )
    verify.add_argument("--data-dir", default="./var", help="where `simpul up` keeps the SQLite databases")
    verify.add_argument("--postgres", metavar="URL", help="the PostgreSQL that `simpul up --postgres` used")
    verify.add_argument("--schema-prefix", default="simpul_", help="schema name prefix with --postgres")
    verify.add_argument("--service", choices=sorted(BY_NAME), action="append", help="only this service")
    verify.add_argument(
        "--progress-every", type=int, default=PROGRESS_EVERY, metavar="N", help="report progress every N entries"
    )


@dataclass(frozen=True)
class TrailDatabase:
    service: str
    url: str
    schema: str | None
    where: str


def trail_databases(args: argparse.Namespace) -> list[TrailDatabase]:
    """Where each service keeps its database, as `simpul up` sets it: <data-dir>/<service>.db, or one schema each."""
    names = args.service or [s.name for s in SERVICES]
    if args.postgres:
        return [
            TrailDatabase(name, args.postgres, f"{args.schema_prefix}{name}", f"schema {args.schema_prefix}{name}")
            for name in names
        ]
    data_dir = Path(args.data_dir).resolve()
    return [
        TrailDatabase(name, f"sqlite+aiosqlite:///{data_dir / f'{name}.db'}", None, str(data_dir / f"{name}.db"))
        for name in names
    ]


async def run_audit(args: argparse.Namespace) -> int:
    """0: every trail found holds; 1: one is broken (or a requested one is missing); 2: no trail found at all."""
    from sqlalchemy.exc import SQLAlchemyError

    from shared.audit import verify_database

    failed = False
    checked = 0
    for target in trail_databases(args):
        if not await _exists(target):
            say(f"{target.service:<8} no database ({target.where}); skipped")
            failed = failed or bool(args.service)
            continue

        def progress(n: int, service: str = target.service) -> None:
            say(f"{service:<8} ... {n} entries checked")

        checked += 1
        try:
            verdict = await verify_database(
                target.url, target.schema, progress=progress, progress_every=max(1, args.progress_every)
            )
        except (SQLAlchemyError, OSError) as exc:
            failed = True
            first_line = (str(exc).splitlines() or [""])[0]
            say(f"{target.service:<8} ERROR, could not read the trail ({target.where}): {first_line}")
            continue
        if verdict.broken is None:
            say(f"{target.service:<8} OK, {verdict.entries} entries ({target.where})")
            continue
        failed = True
        at = f" at {verdict.broken.where()}" if verdict.broken.where() else ""
        say(f"{target.service:<8} BROKEN{at}: {verdict.broken.problem} ({target.where})")
        if verdict.entries:
            say(f"{'':<8} seq 1 to {verdict.entries} hold")
    if checked == 0:
        say("no service database found: pass --data-dir, or --postgres and --schema-prefix")
        return 2
    return 1 if failed else 0


async def _exists(target: TrailDatabase) -> bool:
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
