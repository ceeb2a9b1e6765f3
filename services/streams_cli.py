"""`simpul streams` (or `python -m services.streams_cli`): create the hub's three streams and its files' Object Store
buckets (shared.events.topology.BUCKETS) as `ops`, R3 on a cluster.

The services may only look their streams and buckets up (services.nats_users), so a deployment runs this once before
they start (the compose stack's `streams` job, the Kubernetes Job `simpul-streams`). A stream or bucket that exists is
left as it is (but for the dead-letter stream's limits).
It keeps trying while the cluster forms: a fresh cluster answers JetStream requests only once it has a leader.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.js.api import StreamInfo

from shared.bus.nats_bus import (
    DLQ_STREAM,
    PRIVATE_STREAM,
    STREAM,
    DeadLetterLimits,
    ensure_buckets,
    ensure_streams,
    inbox_prefix,
)

RETRY_SECONDS = 0.5
REQUEST_TIMEOUT_S = 3.0
"""A JetStream request goes unanswered until the cluster has a leader: ask again rather than wait long."""


def add_streams_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "streams", help="create the three streams and the files' buckets as ops (R3 on a cluster) before services start"
    )
    parser.add_argument(
        "--nats-url",
        default=os.environ.get("SIMPUL_NATS_URL", "nats://127.0.0.1:4222"),
        help="comma-separated server URLs (default: SIMPUL_NATS_URL)",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=int(os.environ.get("SIMPUL_STREAM_REPLICAS", "1")),
        help="copies of each stream and bucket: 3 on a three-node cluster (default: SIMPUL_STREAM_REPLICAS, else 1)",
    )
    parser.add_argument(
        "--max-age-days",
        type=int,
        default=int(os.environ.get("SIMPUL_STREAM_MAX_AGE_DAYS", "30")),
        help="how long SIMPUL and SIMPUL_PRIVATE keep messages (dead letters: --dlq-max-age-days)",
    )
    parser.add_argument(
        "--dlq-max-age-days",
        type=int,
        default=None,
        help="how long dead letters are kept (default: SIMPUL_DLQ_MAX_AGE_DAYS, else 0: until purged); also for an"
        " existing stream",
    )
    parser.add_argument(
        "--dlq-max-bytes",
        type=int,
        default=None,
        help="the most the dead-letter stream holds (default: SIMPUL_DLQ_MAX_BYTES, else 1 GiB); oldest go first",
    )
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to keep trying (default 120)")


async def run_streams(args: argparse.Namespace) -> int:
    """0: the three streams and the buckets exist; 1: not within --wait. The user is SIMPUL_NATS_USER (default ops)."""
    user = os.environ.get("SIMPUL_NATS_USER", "ops")
    password = os.environ.get("SIMPUL_NATS_PASSWORD")
    servers = _servers(args.nats_url)
    given = {"max_age_days": args.dlq_max_age_days, "max_bytes": args.dlq_max_bytes}
    dead_letters = DeadLetterLimits(**{k: v for k, v in given.items() if v is not None})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.wait
    while True:
        try:
            infos = await _create(servers, user, password, args.replicas, args.max_age_days, dead_letters)
            break
        except Exception as exc:
            if loop.time() >= deadline:
                print(f"could not create the streams and buckets within {args.wait:.0f}s: {exc!r}", file=sys.stderr)
                return 1
            print(f"streams: not yet ({type(exc).__name__}: {exc}); retrying", file=sys.stderr)
            await asyncio.sleep(RETRY_SECONDS)
    for info in infos:
        replicas = info.config.num_replicas or 1
        note = "" if replicas >= args.replicas else f" (fewer than {args.replicas}: raise it with `nats stream edit`)"
        print(f"{info.config.name:<24} R{replicas}  {','.join(info.config.subjects or [])}{note}")
    return 0


async def _create(
    servers: list[str], user: str, password: str | None, replicas: int, days: int, dead_letters: DeadLetterLimits
) -> list[StreamInfo]:
    nc: NATS = await nats.connect(
        servers=servers,
        name="simpul-streams",
        user=user,
        password=password,
        inbox_prefix=inbox_prefix(user),
        allow_reconnect=False,
        connect_timeout=3,
    )
    try:
        js = nc.jetstream(timeout=REQUEST_TIMEOUT_S)
        await ensure_streams(
            js, replicas=replicas, max_age_s=days * 86400.0, dead_letters=dead_letters, update_dead_letters=True
        )
        streams = [await js.stream_info(name) for name in (STREAM, PRIVATE_STREAM, DLQ_STREAM)]
        return streams + await ensure_buckets(js, replicas=replicas)
    finally:
        await nc.close()


def _servers(urls: str) -> list[str]:
    return [u.strip() for u in urls.split(",") if u.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.streams_cli")
    add_streams_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["streams", *(sys.argv[1:] if argv is None else argv)])
    sys.exit(asyncio.run(run_streams(args)))


if __name__ == "__main__":
    main()
