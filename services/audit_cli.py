"""`simpul audit verify`: recompute every service database's audit chain; report OK or the first broken link."""

from __future__ import annotations

import argparse
from typing import Any

from services.service_dbs import add_database_arguments, database_exists, say, service_databases

PROGRESS_EVERY = 10_000


def add_audit_parser(sub: Any) -> None:
    audit = sub.add_parser("audit", help="the hash-chained audit trails: verify")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="recompute each service's audit chain; exit 1 and name the first broken link if one does not hold",
    )
    add_database_arguments(verify)
    verify.add_argument(
        "--progress-every", type=int, default=PROGRESS_EVERY, metavar="N", help="report progress every N entries"
    )


async def run_audit(args: argparse.Namespace) -> int:
    """0: every trail found holds; 1: one is broken (or a requested one is missing); 2: no trail found at all."""
    from sqlalchemy.exc import SQLAlchemyError

    from shared.audit import verify_database

    failed = False
    checked = 0
    for target in service_databases(args):
        if not await database_exists(target):
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
