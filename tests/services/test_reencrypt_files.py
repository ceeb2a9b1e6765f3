"""`simpul reencrypt` and stored files: rotating the `files` ring seals each object's own key again, never its content,
against a real nats-server's Object Store (the embedded hub's, stopped or running, and a distributed one)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import ObjectMeta

from services.nats_users import OPS, hub_users
from services.natsd import NatsServer
from services.secrets_store import load_or_create
from services.state import write_state
from shared.bus.nats_bus import ensure_buckets, inbox_prefix
from shared.crypto import Sealer, generate_fernet_key
from shared.events.topology import FILES_AGENCY, FILES_INTAKE, Bucket
from shared.files.store import KEY_HEADER, FileStore

SERVICES = ["intake", "routing", "agency", "notify"]
CONTENT = {
    "a-photo": b"\xff\xd8\xff" + os.urandom(200_000),
    "a-letter": b"Surat keberatan atas pungutan liar.\n" * 50,
    "empty-but-stored": b"",
}


@dataclass(frozen=True)
class Connection:
    js: JetStreamContext


async def _connect(url: str, user: str | None = None, password: str | None = None) -> NATS:
    return await nats.connect(url, user=user, password=password, inbox_prefix=inbox_prefix(user))


async def _put(js: JetStreamContext, bucket: Bucket, ring: list[str], files: dict[str, bytes], tmp: Path) -> None:
    store = FileStore(Connection(js), bucket, Sealer(ring))
    for name, content in files.items():
        source = tmp / f"{bucket.name}-{name}"
        source.write_bytes(content)
        await store.put(name, source)


async def _read(js: JetStreamContext, bucket: Bucket, ring: list[str], name: str) -> bytes:
    return b"".join([chunk async for chunk in await FileStore(Connection(js), bucket, Sealer(ring)).open(name)])


async def _sealed_key(js: JetStreamContext, bucket: Bucket, name: str) -> str:
    info = await (await js.object_store(bucket.name)).get_info(name)
    return str((info.headers or {})[KEY_HEADER][0])


def _simpul(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")} | (env or {})
    argv = [sys.executable, "-m", "services.cli", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=clean, timeout=120, check=False)


@dataclass
class EmbeddedStore:
    """A stopped embedded hub's data folder, whose broker store holds both buckets."""

    data_dir: Path
    passwords: dict[str, str]

    def server(self) -> NatsServer:
        return NatsServer(
            data_dir=self.data_dir / "nats", server_name="simpul-embedded", users=hub_users(self.passwords)
        )

    @property
    def files_ring(self) -> list[str]:
        return list(json.loads((self.data_dir / "secrets.json").read_text())["channel_keys"]["files"])


@contextlib.asynccontextmanager
async def _running(store: EmbeddedStore) -> AsyncIterator[tuple[NatsServer, NATS]]:
    server = store.server()
    await asyncio.to_thread(server.start)
    nc = await _connect(server.url, OPS, store.passwords[OPS])
    try:
        yield server, nc
    finally:
        await nc.close()
        await asyncio.to_thread(server.stop)


async def _embedded(tmp_path: Path, intake: dict[str, bytes], agency: dict[str, bytes]) -> EmbeddedStore:
    secrets = load_or_create(tmp_path, SERVICES, None)
    store = EmbeddedStore(tmp_path, secrets.nats_passwords)
    async with _running(store) as (_server, nc):
        js = nc.jetstream()
        await ensure_buckets(js)  # as `simpul up` does
        await _put(js, FILES_INTAKE, store.files_ring, intake, tmp_path)
        await _put(js, FILES_AGENCY, store.files_ring, agency, tmp_path)
    return store


async def test_rotate_then_the_files_open_with_the_new_key_alone(tmp_path: Path) -> None:
    store = await _embedded(tmp_path, CONTENT, {"agency-reply": b"Balasan dinas. " * 1000})
    (old_key,) = store.files_ring

    rotated = await asyncio.to_thread(_simpul, "reencrypt", "--rotate", "--data-dir", str(tmp_path))
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert "files    the hub is stopped: starting its nats-server" in rotated.stdout
    assert "files    new key added to the files ring" in rotated.stdout
    assert "files    OK simpul-files-intake: 3 objects, 3 resealed, 0 already current" in rotated.stdout
    assert "files    OK simpul-files-agency: 1 objects, 1 resealed, 0 already current" in rotated.stdout
    assert "files    the embedded nats-server stopped again" in rotated.stdout
    new_key, kept = store.files_ring
    assert kept == old_key and new_key != old_key, "the new key goes first; the old one stays until all is resealed"

    # The old key leaves the ring: every file still opens, with the new key alone.
    secrets = json.loads((tmp_path / "secrets.json").read_text())
    secrets["channel_keys"]["files"] = [new_key]
    (tmp_path / "secrets.json").write_text(json.dumps(secrets))
    async with _running(store) as (server, nc):
        js = nc.jetstream()
        for name, content in CONTENT.items():
            assert await _read(js, FILES_INTAKE, [new_key], name) == content
            assert not Sealer([old_key]).is_current(await _sealed_key(js, FILES_INTAKE, name))
        assert await _read(js, FILES_AGENCY, [new_key], "agency-reply") == b"Balasan dinas. " * 1000

        # With the hub's nats-server running, the command uses it: a second run finds everything current.
        assert server.process is not None
        write_state(tmp_path, {"supervisor_pid": os.getpid(), "nats": {"pid": server.process.pid, "url": server.url}})
        again = await asyncio.to_thread(_simpul, "reencrypt", "--data-dir", str(tmp_path), "--service", "agency")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "starting its nats-server" not in again.stdout
        assert "files    OK simpul-files-intake: 3 objects, 0 resealed, 3 already current" in again.stdout
        assert "files    OK simpul-files-agency: 1 objects, 0 resealed, 1 already current" in again.stdout


async def test_a_key_no_ring_key_opens_fails_the_run_and_says_which(tmp_path: Path) -> None:
    store = await _embedded(tmp_path, {"good-1": b"satu", "good-2": b"dua"}, {})
    async with _running(store) as (_server, nc):
        js = nc.jetstream()
        await _put(js, FILES_INTAKE, [generate_fernet_key()], {"foreign": b"sealed elsewhere"}, tmp_path)
        obs = await js.object_store(FILES_INTAKE.name)
        await obs.put("no-key-header", b"SPF1" + bytes(40))
        info = await obs.get_info("good-2")
        headers = dict(info.headers or {})
        headers[KEY_HEADER] = [base64.b64encode(b"not a fernet token").decode()]
        await obs.update_meta("good-2", ObjectMeta(name="good-2", headers=headers))

    done = await asyncio.to_thread(_simpul, "reencrypt", "--rotate", "--data-dir", str(tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "files    ERROR simpul-files-intake: foreign: no key in the ring opens its key" in done.stdout
    assert "files    ERROR simpul-files-intake: good-2: no key in the ring opens its key" in done.stdout
    assert "files    ERROR simpul-files-intake: no-key-header: no key" in done.stdout
    assert "files    ERROR simpul-files-intake: 4 objects, 1 resealed, 0 already current, 3 NOT OPENED" in done.stdout
    assert "files    OK simpul-files-agency: 0 objects, 0 resealed, 0 already current" in done.stdout
    async with _running(store) as (_server, nc):
        assert await _read(nc.jetstream(), FILES_INTAKE, store.files_ring[:1], "good-1") == b"satu"


async def test_a_distributed_ring_from_the_environment(tmp_path: Path, natsd: NatsServer) -> None:
    old, new = generate_fernet_key(), generate_fernet_key()
    nc = await _connect(natsd.url)
    try:
        js = nc.jetstream()
        await ensure_buckets(js)
        await _put(js, FILES_AGENCY, [old], {"bukti": b"bukti tindak lanjut"}, tmp_path)

        env = {"SIMPUL_INTAKE_FILES_KEYS": f"{new},{old}", "SIMPUL_AGENCY_FILES_KEYS": f"{new},{old}"}
        refused = await asyncio.to_thread(_simpul, "reencrypt", "--rotate", "--data-dir", str(tmp_path), env=env)
        assert refused.returncode == 1 and "rotate them there" in refused.stdout
        nowhere = await asyncio.to_thread(_simpul, "reencrypt", "--data-dir", str(tmp_path), env=env)
        assert nowhere.returncode == 1
        assert "files    ERROR no broker to reach the file buckets: set SIMPUL_NATS_URL or pass --nats-url" in (
            nowhere.stdout
        )

        done = await asyncio.to_thread(
            _simpul, "reencrypt", "--data-dir", str(tmp_path), env=env | {"SIMPUL_NATS_URL": natsd.url}
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "files    OK simpul-files-intake: 0 objects" in done.stdout
        assert "files    OK simpul-files-agency: 1 objects, 1 resealed, 0 already current" in done.stdout
        assert await _read(js, FILES_AGENCY, [new], "bukti") == b"bukti tindak lanjut"
    finally:
        await nc.close()


async def test_the_embedded_hub_that_never_ran_has_no_files_to_reseal(tmp_path: Path) -> None:
    load_or_create(tmp_path, SERVICES, None)
    done = await asyncio.to_thread(_simpul, "reencrypt", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "files    no broker store in" in done.stdout
    assert "starting its nats-server" not in done.stdout
