"""Files in a JetStream Object Store bucket, sealed: each object holds a file's sealed segments (shared.files.sealed)
and, in its metadata, the file's own key sealed with the hub's file key ring."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from nats.js import JetStreamContext
from nats.js.api import ObjectInfo, ObjectMeta, ObjectMetaOptions
from nats.js.errors import NotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from shared.crypto import Sealer
from shared.events.topology import Bucket
from shared.files.sealed import FileDamaged, SealingReader, new_file_key, opened

KEY_HEADER = "Simpul-File-Key"
CHUNK = 512 * 1024
"""The largest message of an object. Each is published and acknowledged in turn, so fewer cost less: a 5 MiB upload
takes about a fifth less of intake's CPU in 512 KiB messages than in 128 KiB ones (1 MiB saves no more), and 512 KiB
stays well under a NATS server's default max_payload (1 MB)."""


class FileMissing(LookupError):
    """No such object in the bucket (never stored, or removed)."""


class JetStream(Protocol):
    """A connection's JetStream context: a service's Bus, or the command line's own connection."""

    @property
    def js(self) -> JetStreamContext: ...


@dataclass(frozen=True)
class StoredObject:
    name: str
    mtime: datetime | None
    nuid: str = ""
    """The subject its chunks are on (`$O.<bucket>.C.<nuid>`)."""


class FileStore:
    """One bucket, as one service uses it: the owner puts and deletes; every reader opens."""

    def __init__(self, bus: JetStream, bucket: Bucket, ring: Sealer):
        self.bus = bus
        self.bucket = bucket
        self.ring = ring
        self._store: ObjectStore | None = None
        self._store_js: object = None

    async def _obs(self) -> ObjectStore:
        js = self.bus.js
        if self._store is None or self._store_js is not js:  # a new connection makes a new context
            self._store, self._store_js = await js.object_store(self.bucket.name), js
        return self._store

    async def put(self, name: str, path: Path) -> None:
        """Seal the file at `path` and store it as `name`; the bucket holds it (on every replica) when this returns."""
        key = new_file_key()
        headers = {KEY_HEADER: [self.ring.seal(base64.b64encode(key).decode())]}
        meta = ObjectMeta(name=name, headers=headers, options=ObjectMetaOptions(max_chunk_size=CHUNK))
        obs = await self._obs()
        with path.open("rb") as source:
            # Shielded: a put cut off half way would leave chunks with no metadata; run on, it leaves a whole
            # object, which the orphan sweep finds by its name.
            await asyncio.shield(obs.put(name, SealingReader(source, key), meta=meta))  # type: ignore[arg-type]

    async def open(self, name: str) -> AsyncIterator[bytes]:
        """The file's plaintext, a segment at a time; FileMissing when there is none, FileDamaged if it does not
        open (checked segment by segment, and against the bucket's digest at the end)."""
        obs = await self._obs()
        try:
            info = await obs.get_info(name)
        except (ObjectNotFoundError, NotFoundError) as exc:
            raise FileMissing(name) from exc
        key = self._key_of(info)
        return opened(key, self._sealed_chunks(info))

    async def _sealed_chunks(self, info: ObjectInfo) -> AsyncIterator[bytes]:
        if not info.size:
            return
        subject = f"$O.{self.bucket.name}.C.{info.nuid}"
        sub = await self.bus.js.subscribe(subject, stream=self.bucket.stream, ordered_consumer=True)
        digest = hashlib.sha256()
        try:
            async for msg in sub.messages:
                digest.update(msg.data)
                yield msg.data
                if msg.metadata.num_pending == 0:
                    break
        finally:
            await sub.unsubscribe()
        expected = (info.digest or "").split("=", 1)[-1]
        if base64.urlsafe_b64decode(expected + "=" * (-len(expected) % 4)) != digest.digest():
            raise FileDamaged(f"{info.name}: the stored bytes do not match their digest")

    def _key_of(self, info: ObjectInfo) -> bytes:
        values = (info.headers or {}).get(KEY_HEADER)
        token = values[0] if isinstance(values, list) and values else values
        if not isinstance(token, str):
            raise FileDamaged(f"{info.name}: no key")
        try:
            return base64.b64decode(self.ring.open(token))
        except ValueError as exc:
            raise FileDamaged(f"{info.name}: no key in the ring opens its key") from exc

    async def delete(self, name: str) -> None:
        """Remove the object; one already gone is no error."""
        try:
            await (await self._obs()).delete(name)
        except (ObjectNotFoundError, NotFoundError):
            return

    async def objects(self) -> list[StoredObject]:
        """Every live object in the bucket, with when it was stored."""
        try:
            infos = await (await self._obs()).list(ignore_deletes=True)
        except NotFoundError:
            return []
        return [StoredObject(str(i.name), _when(i.mtime), str(i.nuid or "")) for i in infos if not i.deleted]

    async def chunk_sets(self) -> set[str]:
        """The nuids of every set of chunks in the bucket: each live object's, and any a put left without its
        metadata (it was cancelled, or its process died)."""
        prefix = f"$O.{self.bucket.name}.C."
        info = await self.bus.js.stream_info(self.bucket.stream, subjects_filter=f"{prefix}>")
        return {subject.removeprefix(prefix) for subject in (info.state.subjects or {})}

    async def purge_chunks(self, nuid: str) -> None:
        await self.bus.js.purge_stream(self.bucket.stream, subject=f"$O.{self.bucket.name}.C.{nuid}")

    async def reseal_key(self, name: str) -> bool:
        """Seal the object's key again under the ring's newest key; False when it already was."""
        obs = await self._obs()
        info = await obs.get_info(name)
        values = (info.headers or {}).get(KEY_HEADER)
        token = values[0] if isinstance(values, list) and values else values
        if not isinstance(token, str):
            raise FileDamaged(f"{name}: no key")
        if self.ring.is_current(token):
            return False
        try:
            resealed = self.ring.reseal(token)
        except ValueError as exc:
            raise FileDamaged(f"{name}: no key in the ring opens its key") from exc
        headers = dict(info.headers or {})
        headers[KEY_HEADER] = [resealed]
        await obs.update_meta(name, ObjectMeta(name=name, description=info.description, headers=headers))
        return True


def _when(mtime: str | None) -> datetime | None:
    if not mtime:
        return None
    try:
        return datetime.fromisoformat(mtime.replace("Z", "+00:00"))
    except ValueError:
        return None
