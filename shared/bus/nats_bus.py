"""One NATS connection per process: it keeps reconnecting, makes sure the streams exist, and publishes with acks.

`ops` creates the streams and the files' buckets (`ensure_streams`, `ensure_buckets`: `simpul up`, `simpul streams`)
before any service starts; a service's Bus only looks them up, and creates a missing stream only where the broker
lets it (the tests' open servers). It never creates a bucket.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Sequence
from dataclasses import dataclass

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, ObjectStoreConfig, RetentionPolicy, StorageType, StreamConfig, StreamInfo
from nats.js.errors import APIError, NotFoundError
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.events.topology import BUCKETS, DLQ_STREAM, PRIVATE_STREAM, STREAM, STREAM_SUBJECTS, Bucket
from shared.logging import get_logger

__all__ = [
    "DLQ_STREAM",
    "PRIVATE_STREAM",
    "STREAM",
    "Bus",
    "DeadLetterLimits",
    "ensure_buckets",
    "ensure_streams",
    "inbox_prefix",
]

DUPLICATE_WINDOW_S = 120.0
INBOX_ROOT = "_INBOX"

log = get_logger(__name__)


def inbox_prefix(user: str | None) -> str:
    """Where a connection's replies arrive: `_INBOX.<user>` for a named user, so that the broker can let each user
    subscribe to its own replies only (another user's replies carry the messages its consumers fetch)."""
    return f"{INBOX_ROOT}.{user}" if user else INBOX_ROOT


class DeadLetterLimits(BaseSettings):
    """How much the dead-letter stream holds: hub-wide (SIMPUL_DLQ_MAX_AGE_DAYS, SIMPUL_DLQ_MAX_BYTES). Set by ops:
    `simpul streams` and `simpul up` apply them to an existing stream too; a service applies them only to a stream it
    creates.

    A full stream takes no new letter rather than drop an old one: the event that failed stays on its own stream,
    retried, and `dead_letter_publish_failed` is logged until ops make room. Only an age limit, which is off unless
    set, lets letters go by themselves."""

    model_config = SettingsConfigDict(env_prefix="SIMPUL_DLQ_", extra="ignore")

    max_age_days: int = Field(
        default=0, ge=0, description="How long a dead letter is kept, in days; 0 (the default): until it is purged."
    )
    max_bytes: int = Field(
        default=1024**3, ge=1024 * 1024, description="The most the dead-letter stream holds, in bytes."
    )

    @property
    def max_age_s(self) -> float:
        return self.max_age_days * 86400.0


@dataclass(frozen=True)
class OutgoingMessage:
    subject: str
    payload: bytes
    msg_id: str


class Published(enum.Enum):
    ok = "ok"
    """The stream holds it: stored now, or already (a duplicate by its Nats-Msg-Id)."""
    in_flight = "in_flight"
    """Another publisher's copy (a replica's relay) is being stored right now: that publisher marks it."""
    failed = "failed"


DUPLICATE_IN_PROCESS = 10158
"""JetStream's error code for "duplicate message id is in process"."""


def outcome_of(result: object) -> Published:
    """What one publish's acknowledgement (or its exception) means for the outbox row behind it."""
    if not isinstance(result, BaseException):
        return Published.ok
    if isinstance(result, APIError) and (
        result.err_code == DUPLICATE_IN_PROCESS or "in process" in (result.description or "")
    ):
        return Published.in_flight
    return Published.failed


class Bus:
    def __init__(
        self,
        url: str,
        *,
        name: str,
        user: str | None = None,
        password: str | None = None,
        replicas: int = 1,
        max_age_days: int = 30,
        publish_timeout: float = 5.0,
        dead_letters: DeadLetterLimits | None = None,
    ):
        self._servers = [u.strip() for u in url.split(",") if u.strip()]
        self._name = name
        self._user = user
        self._password = password
        self._replicas = replicas
        self._max_age_s = max_age_days * 86400.0
        self._dead_letters = dead_letters or DeadLetterLimits()
        self._publish_timeout = publish_timeout
        self._nc: NATS | None = None
        self._js: JetStreamContext | None = None
        self._ready = asyncio.Event()
        self._connect_task: asyncio.Task[None] | None = None

    @property
    def is_connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise ConnectionError("not connected to NATS")
        return self._js

    @property
    def nc(self) -> NATS:
        if self._nc is None:
            raise ConnectionError("not connected to NATS")
        return self._nc

    def start(self) -> None:
        """Connect in the background, retrying for ever; `wait_ready` blocks until the streams exist."""
        self._connect_task = asyncio.create_task(self._connect_forever(), name="nats-connect")

    async def wait_ready(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def wait_ready_or(self, stop: asyncio.Event) -> bool:
        """Wait until connected or until `stop` is set; True when connected."""
        if self._ready.is_set():
            return True
        ready = asyncio.ensure_future(self._ready.wait())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({ready, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (ready, stopping):
            task.cancel()
        return self._ready.is_set()

    async def connect(self) -> None:
        self._nc = await nats.connect(
            servers=self._servers,
            name=self._name,
            user=self._user,
            password=self._password,
            inbox_prefix=inbox_prefix(self._user),
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=2,
            drain_timeout=2,
            pending_size=64 * 1024 * 1024,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
        )
        self._js = self._nc.jetstream(timeout=self._publish_timeout)
        await self.ensure_streams()
        self._ready.set()

    async def _connect_forever(self) -> None:
        delay = 0.2
        while True:
            try:
                await self.connect()
                log.info("nats_connected", servers=self._servers)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("nats_connect_failed", error=str(exc), retry_in=delay)
                if self._nc is not None:
                    await _close_quietly(self._nc)
                    self._nc = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def ensure_streams(self) -> None:
        """The three streams, as they are or created where the broker lets this user; never the buckets (ops')."""
        await ensure_streams(
            self.js, replicas=self._replicas, max_age_s=self._max_age_s, dead_letters=self._dead_letters
        )

    async def publish_many(self, messages: Sequence[OutgoingMessage]) -> list[Published]:
        """Publish in order, pipelined; the outcome of each message."""
        js = self.js
        futures = []
        for m in messages:
            futures.append(await js.publish_async(m.subject, m.payload, headers={"Nats-Msg-Id": m.msg_id}))
        results = await asyncio.gather(
            *(asyncio.wait_for(f, self._publish_timeout) for f in futures), return_exceptions=True
        )
        return [outcome_of(r) for r in results]

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str] | None = None) -> int:
        """Publish and wait for the stream to store it; its sequence in the stream."""
        return int((await self.js.publish(subject, payload, headers=headers)).seq)

    async def close(self) -> None:
        if self._connect_task is not None:
            self._connect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._connect_task
        if self._nc is not None:
            await _close_quietly(self._nc)
        self._nc = None
        self._js = None

    async def _on_error(self, exc: Exception) -> None:
        log.warning("nats_error", error=str(exc))

    async def _on_disconnected(self) -> None:
        log.warning("nats_disconnected")

    async def _on_reconnected(self) -> None:
        log.info("nats_reconnected")


async def ensure_streams(
    js: JetStreamContext,
    *,
    replicas: int = 1,
    max_age_s: float = 30 * 86400.0,
    dead_letters: DeadLetterLimits | None = None,
    update_dead_letters: bool = False,
) -> None:
    """Create the three streams that do not exist yet. An existing stream is left as it is, except that with
    `update_dead_letters` (ops) the dead-letter stream takes the limits it is given."""
    limits = dead_letters or DeadLetterLimits()
    for name, subjects in STREAM_SUBJECTS.items():
        dlq = name == DLQ_STREAM
        config = StreamConfig(
            name=name,
            subjects=list(subjects),
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.NEW if dlq else DiscardPolicy.OLD,
            max_age=limits.max_age_s if dlq else max_age_s,
            max_bytes=limits.max_bytes if dlq else None,
            duplicate_window=DUPLICATE_WINDOW_S,
            num_replicas=replicas,
        )
        try:
            info = await js.stream_info(name)
        except NotFoundError:
            await js.add_stream(config)
            log.info("stream_created", stream=name, replicas=replicas)
            continue
        wanted = (limits.max_age_s, limits.max_bytes, DiscardPolicy.NEW)
        if dlq and update_dead_letters and (info.config.max_age, info.config.max_bytes, info.config.discard) != wanted:
            await js.update_stream(
                info.config.evolve(max_age=limits.max_age_s, max_bytes=limits.max_bytes, discard=DiscardPolicy.NEW)
            )
            log.info("stream_limits_updated", stream=name, max_age_s=limits.max_age_s, max_bytes=limits.max_bytes)


async def ensure_buckets(
    js: JetStreamContext, *, replicas: int = 1, buckets: Sequence[Bucket] = BUCKETS
) -> list[StreamInfo]:
    """Create the files' Object Store buckets that do not exist yet (file storage, `replicas` copies); the stream
    behind each, new or as it was. Only `ops` may: no service may create a stream (services.nats_users)."""
    infos = []
    for bucket in buckets:
        try:
            infos.append(await js.stream_info(bucket.stream))
            continue
        except NotFoundError:
            pass
        config = ObjectStoreConfig(
            description=f"Simpul: files kept by {bucket.owner.value}",
            storage=StorageType.FILE,
            replicas=replicas,
        )
        await js.create_object_store(bucket.name, config=config)
        log.info("bucket_created", bucket=bucket.name, replicas=replicas)
        infos.append(await js.stream_info(bucket.stream))
    return infos


async def _close_quietly(nc: NATS) -> None:
    try:
        await nc.drain() if nc.is_connected else await nc.close()
    except Exception:  # noqa: S110 - closing a broken connection has nothing left to report
        pass
