"""`simpul reencrypt` for stored files: each object's own key, sealed with the shared `files` ring in its metadata, is
sealed again under the ring's newest key. The content is never rewritten: it is sealed with the file's own key.

The ring is SIMPUL_INTAKE_FILES_KEYS when set (the same ring as agency's and routing's: a distributed deployment),
else the embedded hub's secrets.json. The buckets are reached as `ops` (SIMPUL_NATS_USER and SIMPUL_NATS_PASSWORD
when set), at --nats-url or SIMPUL_NATS_URL, else at the embedded hub's nats-server; when that hub is stopped, its
nats-server is started on its own store for the run, and stopped after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError, ObjectNotFoundError

from services.nats_users import OPS, hub_users
from services.natsd import NatsServer
from services.registry import BY_NAME
from services.secrets_store import add_channel_key, ops_credentials, stored_channel_keys, stored_secrets
from services.service_dbs import say
from services.state import pid_alive, read_state
from shared.bus.nats_bus import inbox_prefix
from shared.crypto import Sealer
from shared.events.topology import BUCKETS, Bucket
from shared.files.sealed import FileDamaged
from shared.files.store import FileStore

CHANNEL = "files"
LABEL = f"{CHANNEL:<8}"
HOLDERS = tuple(spec for spec in BY_NAME.values() if CHANNEL in spec.channels)
"""The services that hold the ring (intake, routing, agency): the first whose variable is set gives it."""
REQUEST_TIMEOUT_S = 10.0
PROGRESS_EVERY = 500


class BrokerUnavailable(Exception):
    """The buckets cannot be reached; the message says what to do."""


@dataclass(frozen=True)
class _Connection:
    js: JetStreamContext


@dataclass
class BucketCount:
    objects: int = 0
    resealed: int = 0
    current: int = 0
    gone: int = 0
    """Deleted between listing and re-sealing (a case's retention, or the orphan sweep)."""
    damaged: int = 0


def files_keys_from_env() -> list[str]:
    for spec in HOLDERS:
        keys = [k.strip() for k in os.environ.get(f"{spec.env_prefix}FILES_KEYS", "").split(",") if k.strip()]
        if keys:
            return keys
    return []


def files_keys(data_dir: Path) -> list[str]:
    return files_keys_from_env() or stored_channel_keys(data_dir, CHANNEL)


async def reencrypt_files(data_dir: Path, nats_url: str | None, *, rotate: bool) -> bool:
    """True when every live object's key is under the ring's newest key (or there are no buckets to look at)."""
    try:
        async with _broker(data_dir, nats_url) as connection:
            if connection is None:
                say(f"{LABEL} no broker store in {data_dir / 'nats'} (the hub never ran there); skipped")
                return True
            if rotate:
                add_channel_key(data_dir, CHANNEL)
                say(f"{LABEL} new key added to the files ring in {data_dir / 'secrets.json'} (now the newest)")
            keys = files_keys(data_dir)
            ok = True
            for bucket in BUCKETS:
                ok = await _reseal_bucket(connection, bucket, keys) and ok
            return ok
    except BrokerUnavailable as exc:
        say(f"{LABEL} ERROR {exc}")
        return False


async def _reseal_bucket(connection: _Connection, bucket: Bucket, keys: list[str]) -> bool:
    try:
        await connection.js.object_store(bucket.name)
    except NotFoundError:
        say(f"{LABEL} {bucket.name}: no bucket; skipped")
        return True
    if not keys:
        say(
            f"{LABEL} ERROR {bucket.name}: no files keys: set SIMPUL_INTAKE_FILES_KEYS (the ring intake, agency and"
            " routing share)"
        )
        return False
    try:
        store = FileStore(connection, bucket, Sealer(keys))
    except ValueError as exc:
        say(f"{LABEL} ERROR the files ring does not load: {exc}")
        return False
    names = [stored.name for stored in await store.objects()]
    count = BucketCount(objects=len(names))
    for done, name in enumerate(names, start=1):
        try:
            if await store.reseal_key(name):
                count.resealed += 1
            else:
                count.current += 1
        except (ObjectNotFoundError, NotFoundError):
            count.gone += 1
        except FileDamaged as exc:
            count.damaged += 1
            say(f"{LABEL} ERROR {bucket.name}: {exc}")
        if done % PROGRESS_EVERY == 0 and done < len(names):
            say(f"{LABEL} ... {bucket.name}: {done} of {len(names)} objects")
    extra = "".join(
        f", {n} {what}" for n, what in ((count.gone, "deleted meanwhile"), (count.damaged, "NOT OPENED")) if n
    )
    status = "ERROR" if count.damaged else "OK"
    say(
        f"{LABEL} {status} {bucket.name}: {count.objects} objects, {count.resealed} resealed,"
        f" {count.current} already current{extra}"
    )
    if count.damaged:
        say(
            f"{LABEL} ... put the key that sealed them back in the files ring (SIMPUL_INTAKE_FILES_KEYS or"
            " secrets.json) and run this again; until then those files do not open"
        )
    return not count.damaged


@contextlib.asynccontextmanager
async def _broker(data_dir: Path, nats_url: str | None) -> AsyncIterator[_Connection | None]:
    """A connection as ops to the broker holding the buckets; None for an embedded hub that never stored anything."""
    url = nats_url or os.environ.get("SIMPUL_NATS_URL") or _running_embedded_url(data_dir)
    user, password = ops_credentials(data_dir)
    server: NatsServer | None = None
    try:
        if url is None:
            if files_keys_from_env():
                raise BrokerUnavailable("no broker to reach the file buckets: set SIMPUL_NATS_URL or pass --nats-url")
            if not (data_dir / "nats" / "jetstream").is_dir():
                yield None
                return
            server, password = await _start_embedded(data_dir)
            url, user = server.url, OPS
        nc = await _connect(url, user, password)
        try:
            yield _Connection(nc.jetstream(timeout=REQUEST_TIMEOUT_S))
        finally:
            await nc.close()
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
            say(f"{LABEL} the embedded nats-server stopped again")


def _running_embedded_url(data_dir: Path) -> str | None:
    """The embedded hub's nats-server while it runs (also one left behind by a hub that died)."""
    state = read_state(data_dir) or {}
    nats_state = state.get("nats") or {}
    pid, url = nats_state.get("pid"), nats_state.get("url")
    return str(url) if pid and url and pid_alive(int(pid)) else None


async def _start_embedded(data_dir: Path) -> tuple[NatsServer, str]:
    secrets = stored_secrets(data_dir)
    if secrets is None or OPS not in secrets.nats_passwords:
        raise BrokerUnavailable(
            f"no broker passwords in {data_dir / 'secrets.json'}: start the hub (`simpul up`) and run this again"
        )
    server = NatsServer(
        data_dir=data_dir / "nats", server_name="simpul-embedded", users=hub_users(secrets.nats_passwords)
    )
    say(f"{LABEL} the hub is stopped: starting its nats-server on {data_dir / 'nats'} for this run ...")
    try:
        await asyncio.to_thread(server.start)
    except (RuntimeError, TimeoutError, OSError) as exc:
        await asyncio.to_thread(server.stop)
        raise BrokerUnavailable(
            f"the embedded nats-server did not start ({exc}; see {data_dir / 'nats' / 'nats-server.log'}): start the"
            " hub with `simpul up` and run `simpul reencrypt` again"
        ) from exc
    return server, secrets.nats_passwords[OPS]


async def _connect(url: str, user: str | None, password: str | None) -> NATS:
    try:
        nc: NATS = await nats.connect(
            servers=[u.strip() for u in url.split(",") if u.strip()],
            name="simpul-reencrypt",
            user=user,
            password=password,
            inbox_prefix=inbox_prefix(user),
            allow_reconnect=False,
            connect_timeout=5,
        )
    except Exception as exc:
        raise BrokerUnavailable(
            f"could not connect to {url} as {user or 'no user'} ({type(exc).__name__}: {exc}); set SIMPUL_NATS_USER"
            " and SIMPUL_NATS_PASSWORD to ops's"
        ) from exc
    return nc
