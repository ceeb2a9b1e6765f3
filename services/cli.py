"""The `simpul` command line: up, status, migrate, dlq, audit, reencrypt, nats-config, streams."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from services.audit_cli import add_audit_parser, run_audit
from services.nats_config_cli import add_nats_config_parser, run_nats_config
from services.reencrypt_cli import add_reencrypt_parser, run_reencrypt
from services.registry import BY_NAME
from services.secrets_store import ops_credentials
from services.state import read_state
from services.streams_cli import add_streams_parser, run_streams
from shared.processes import pid_alive

CONNECT_TIMEOUT_S = 15.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="simpul", description="Run and operate the Simpul hub.")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start nats-server, the four services and the gateway (Ctrl-C stops all)")
    up.add_argument("--port", type=int, default=8000, help="the one base URL's port (default 8000)")
    up.add_argument("--data-dir", default="./var", help="where databases, the JetStream store and logs live")
    up.add_argument(
        "--postgres",
        metavar="URL",
        help="use this PostgreSQL (postgresql+asyncpg://...) instead of SQLite, one schema per service",
    )
    up.add_argument("--schema-prefix", default="simpul_", help="schema name prefix with --postgres")
    up.add_argument(
        "--background-nice",
        type=int,
        default=10,
        choices=range(20),
        metavar="0-19",
        help="CPU niceness of routing, agency and notify, so that intake (the front door) keeps its priority "
        "in a burst and the backlog drains behind it (default 10; 0: all equal)",
    )

    status = sub.add_parser("status", help="each process with its PID, port and health")
    status.add_argument("--data-dir", default="./var")

    migrate = sub.add_parser("migrate", help="apply database migrations (simpul up does this too)")
    migrate.add_argument("--data-dir", default="./var")
    migrate.add_argument("--service", choices=sorted(BY_NAME), action="append", help="only this service")
    migrate.add_argument("--postgres", metavar="URL")
    migrate.add_argument("--schema-prefix", default="simpul_")

    dlq = sub.add_parser("dlq", help="dead letters: list, show, replay")
    dlq.add_argument("--data-dir", default="./var")
    dlq.add_argument("--nats-url", help="default: the running hub's nats-server")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True)
    dlq_list = dlq_sub.add_parser("list")
    dlq_list.add_argument("--durable")
    dlq_show = dlq_sub.add_parser("show")
    dlq_show.add_argument("id", type=int)
    dlq_replay = dlq_sub.add_parser("replay")
    dlq_replay.add_argument("id", nargs="?", type=int)
    dlq_replay.add_argument("--all", action="store_true")
    dlq_replay.add_argument(
        "--original-aged-out",
        action="store_true",
        help="replay this one letter although the events stream no longer holds its original to check it against"
        " (every other check still applies); only with an id",
    )

    add_audit_parser(sub)
    add_reencrypt_parser(sub)
    add_nats_config_parser(sub)
    add_streams_parser(sub)

    args = parser.parse_args(argv)
    if args.command == "up":
        from services.up import run_up

        sys.exit(run_up(args))
    if args.command == "status":
        sys.exit(asyncio.run(_status(Path(args.data_dir))))
    if args.command == "migrate":
        from services.up import migrate_all

        sys.exit(asyncio.run(migrate_all(args)))
    if args.command == "dlq":
        sys.exit(asyncio.run(_dlq(args)))
    if args.command == "audit":
        sys.exit(asyncio.run(run_audit(args)))
    if args.command == "reencrypt":
        sys.exit(asyncio.run(run_reencrypt(args)))
    if args.command == "nats-config":
        sys.exit(run_nats_config(args))
    if args.command == "streams":
        sys.exit(asyncio.run(run_streams(args)))


async def _status(data_dir: Path) -> int:
    state = read_state(data_dir.resolve())
    if state is None or not pid_alive(int(state.get("supervisor_pid", 0))):
        print(f"Simpul is not running (no live hub in {data_dir})")
        return 1
    rows: list[tuple[str, Any, Any, str]] = []
    async with httpx.AsyncClient(timeout=2.0) as client:
        nats = state["nats"]
        rows.append(("nats-server", nats["pid"], nats["port"], "alive" if pid_alive(nats["pid"]) else "dead"))
        for name, info in [*state["services"].items(), *state.get("doors", {}).items()]:
            rows.append((name, info["pid"], info["port"], await _health(client, info["port"], info["pid"])))
        gw = state["gateway"]
        rows.append(("gateway", state["supervisor_pid"], gw["port"], await _health(client, gw["port"], None)))
    print(f"Simpul at {state['gateway']['url']}  (data: {state['data_dir']})")
    print(f"{'process':<12} {'pid':>8} {'port':>6}  health")
    for name, pid, port, health in rows:
        print(f"{name:<12} {pid:>8} {port:>6}  {health}")
    return 0 if all(r[3] in ("ok", "alive") for r in rows) else 1


async def _health(client: httpx.AsyncClient, port: int, pid: int | None) -> str:
    if pid is not None and not pid_alive(pid):
        return "dead"
    try:
        r = await client.get(f"http://127.0.0.1:{port}/readyz")
    except httpx.HTTPError as exc:
        return f"down ({type(exc).__name__})"
    if r.status_code == 200:
        return "ok"
    return "unready " + json.dumps(r.json().get("checks", {}))


async def _dlq(args: argparse.Namespace) -> int:
    from shared.bus import Bus
    from shared.bus.dlq import ReplayRefused, get_dead_letter, iter_dead_letters, replay

    url = args.nats_url
    if url is None:
        state = read_state(Path(args.data_dir).resolve())
        if state is None:
            print("no running hub found; pass --nats-url", file=sys.stderr)
            return 2
        url = state["nats"]["url"]
    user, password = ops_credentials(Path(args.data_dir).resolve())
    bus = Bus(url, name="simpul-cli", user=user, password=password)
    try:
        await asyncio.wait_for(bus.connect(), CONNECT_TIMEOUT_S)
    except TimeoutError:
        await bus.close()
        print(f"could not connect to {url} as {user or 'no user'} within {CONNECT_TIMEOUT_S:.0f}s", file=sys.stderr)
        return 2
    try:
        if args.dlq_command == "list":
            n = 0
            async for letter in iter_dead_letters(bus.js, args.durable):
                n += 1
                print(
                    f"{letter.id:>6}  {letter.failed_at[:19]}  {letter.durable:<22} "
                    f"{letter.subject:<40} {letter.error[:80]}"
                )
            print(f"{n} dead letter(s)")
            return 0
        if args.dlq_command == "show":
            shown = await get_dead_letter(bus.js, args.id)
            if shown is None:
                print(f"no dead letter {args.id}", file=sys.stderr)
                return 1
            print(json.dumps({k: v for k, v in shown.__dict__.items() if k != "payload"}, indent=2))
            print(shown.payload.decode(errors="replace"))
            return 0
        if args.original_aged_out and (args.all or args.id is None):
            print("--original-aged-out takes one letter's id, never --all", file=sys.stderr)
            return 2
        if args.all:
            letters = [letter async for letter in iter_dead_letters(bus.js)]
        elif args.id is not None:
            found = await get_dead_letter(bus.js, args.id)
            letters = [found] if found else []
        else:
            print("give an id or --all", file=sys.stderr)
            return 2
        refused = 0
        for letter in letters:
            try:
                await replay(bus.js, letter, original_aged_out=args.original_aged_out)
            except ReplayRefused as exc:
                refused += 1
                print(f"refused {letter.id}: {exc}")
                continue
            print(f"replayed {letter.id} to {letter.subject}")
        print(f"{len(letters) - refused} replayed" + (f", {refused} refused" if refused else ""))
        return 1 if refused else 0
    finally:
        await bus.close()


if __name__ == "__main__":
    main()
