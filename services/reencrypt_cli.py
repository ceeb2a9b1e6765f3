"""`simpul reencrypt`: seal every service's stored personal data again under its newest key (after a rotation), and
every stored file's key under the newest key of the `files` ring (services.reencrypt_files).

Keys come from SIMPUL_<SERVICE>_ENCRYPTION_KEYS and SIMPUL_INTAKE_FILES_KEYS when they are set (a distributed
deployment), else from the embedded hub's secrets.json. `--rotate` (embedded hub, stopped) first puts a new key in
front of each service's list and of the files ring.
"""

from __future__ import annotations

import argparse
import importlib
import os
from pathlib import Path
from typing import Any

from services.reencrypt_files import CHANNEL, HOLDERS, reencrypt_files
from services.registry import BY_NAME
from services.secrets_store import add_encryption_key, stored_encryption_keys
from services.service_dbs import ServiceDatabase, add_database_arguments, database_exists, say, service_databases
from services.state import pid_alive, read_state


def add_reencrypt_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "reencrypt",
        help="seal each service's stored personal data again under its newest encryption key",
    )
    add_database_arguments(parser)
    parser.add_argument(
        "--rotate",
        action="store_true",
        help="embedded hub only, while it is stopped: first add a new newest key for each service and for the files"
        " ring to secrets.json",
    )
    parser.add_argument(
        "--nats-url",
        default=None,
        help="the broker holding the file buckets, reached as ops (default: SIMPUL_NATS_URL, else the embedded hub's"
        " nats-server, started for the run when the hub is stopped)",
    )


async def run_reencrypt(args: argparse.Namespace) -> int:
    """0: everything is under the newest keys; 1: a value or a file's key no key opens, or a database or the file
    buckets could not be read."""
    data_dir = Path(args.data_dir).resolve()
    if args.rotate:
        refusal = _rotation_refusal(data_dir)
        if refusal:
            say(refusal)
            return 1
    failed = False
    for target in service_databases(args):
        if not await database_exists(target):
            say(f"{target.service:<8} no database ({target.where}); skipped")
            continue
        if args.rotate:
            add_encryption_key(data_dir, target.service)
            say(f"{target.service:<8} new key added to {data_dir / 'secrets.json'} (now the newest of its keys)")
        keys = _keys(target.service, data_dir)
        if not keys:
            failed = True
            say(f"{target.service:<8} ERROR no keys: set {BY_NAME[target.service].env_prefix}ENCRYPTION_KEYS")
            continue
        failed = not await _reseal(target, keys) or failed
    if _covers_files(args):
        failed = not await reencrypt_files(data_dir, args.nats_url, rotate=args.rotate) or failed
    return 1 if failed else 0


def _covers_files(args: argparse.Namespace) -> bool:
    """Files too, unless --service names only services that do not hold the files ring."""
    return not args.service or any(spec.name in args.service for spec in HOLDERS)


def _rotation_refusal(data_dir: Path) -> str | None:
    from_env = [f"{spec.env_prefix}ENCRYPTION_KEYS" for spec in BY_NAME.values()]
    from_env += [f"{spec.env_prefix}{CHANNEL.upper()}_KEYS" for spec in HOLDERS]
    if any(os.environ.get(name) for name in from_env):
        return "--rotate changes the embedded hub's secrets.json; with keys in the environment, rotate them there"
    state = read_state(data_dir)
    if state and pid_alive(int(state.get("supervisor_pid", 0))):
        return f"the hub is running from {data_dir}: stop it first, so that every service starts on the new key"
    if not (data_dir / "secrets.json").exists():
        return f"no secrets.json in {data_dir}: nothing to rotate"
    return None


def _keys(service: str, data_dir: Path) -> list[str]:
    from_env = os.environ.get(f"{BY_NAME[service].env_prefix}ENCRYPTION_KEYS", "")
    keys = [k.strip() for k in from_env.split(",") if k.strip()]
    return keys or stored_encryption_keys(data_dir, service)


async def _reseal(target: ServiceDatabase, keys: list[str]) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    from shared.crypto import Sealer
    from shared.db.engine import create_engine
    from shared.db.reseal import ResealCount, reseal_database

    def progress(table: str, count: ResealCount) -> None:
        say(f"{target.service:<8} ... {table}: {count.rows} rows read, {count.resealed} values sealed again")

    metadata = importlib.import_module(f"{BY_NAME[target.service].package}.models").Base.metadata
    engine = create_engine(target.url, schema=target.schema)
    try:
        counts = await reseal_database(engine, metadata, Sealer(keys), progress=progress)
    except (ValueError, SQLAlchemyError, OSError) as exc:
        say(f"{target.service:<8} ERROR {(str(exc).splitlines() or [''])[0]} ({target.where})")
        return False
    finally:
        await engine.dispose()
    for table, count in counts.items():
        meanwhile = (
            f", {count.changed_meanwhile} rows rewritten by the service meanwhile" if count.changed_meanwhile else ""
        )
        say(
            f"{target.service:<8} OK {table}: {count.rows} rows, {count.resealed} values sealed again, "
            f"{count.current} already under the newest key{meanwhile}"
        )
    return True
