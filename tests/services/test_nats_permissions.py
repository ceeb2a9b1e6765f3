"""The broker enforces who reads and writes what: each service as its own NATS user, within its own subjects and files.

The servers here are configured as `simpul up` configures its own: the four service users and `ops`, streams and
the files' buckets created by `ops`. A refusal is read from the server itself: it answers a forbidden publish or
subscription with "Permissions Violation", which the connection's error callback receives before the reply to the
next PING.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DiscardPolicy, ObjectMeta, StorageType
from nats.js.errors import BucketNotFoundError, NotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from services.nats_users import (
    GRANTS,
    OPS,
    STREAM_NAMES,
    USERS,
    NatsUser,
    config_password,
    hub_users,
    publish_allowed,
)
from services.natsd import NatsServer
from services.registry import SERVICES
from services.secrets_store import CHANNELS, load_or_create
from services.up import HubSetup, create_streams, service_env
from shared.bus import DLQ_STREAM, PRIVATE_STREAM, STREAM, Bus
from shared.bus.nats_bus import ensure_buckets, inbox_prefix
from shared.bus.subjects import subject_matches
from shared.domain import Status
from shared.events import encode_event, new_event
from shared.events.contracts import EVENT_MODELS, PRIVATE_ROOT, ComplaintStatusChanged
from shared.events.topology import BUCKETS, FILES_AGENCY, FILES_INTAKE, ROUTES, Bucket
from tests.support.apps import eventually

PASSWORDS = {user: secrets.token_urlsafe(32) for user in USERS}
PRIVATE_SUBJECT = f"{PRIVATE_ROOT}.contact.registered"
MIB = 1024 * 1024
REFUSED_WITHIN_S = 0.5
"""A refused JetStream request is never answered: the client waits this long for it."""


@pytest.fixture(scope="module")
def users() -> tuple[NatsUser, ...]:
    return hub_users(PASSWORDS)


@pytest.fixture
async def authed(users: tuple[NatsUser, ...], tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NatsServer]:
    """A nats-server from the wheel that admits only the hub's users, with the streams created by `ops`."""
    server = NatsServer(data_dir=tmp_path_factory.mktemp("nats-authed"), users=users)
    server.start()
    try:
        await create_streams(server.url, PASSWORDS[OPS])
        yield server
    finally:
        server.stop()


@dataclass
class Conn:
    """A raw connection as one user that keeps the server's permission errors."""

    nc: NATS
    errors: list[str] = field(default_factory=list)

    async def refused_publish(self, subject: str, payload: bytes = b"", reply: str = "") -> bool:
        """Publish; True when the server refused it (its error arrives before the PONG that ends the flush)."""
        seen = len(self.errors)
        await self.nc.publish(subject, payload, reply=reply)
        await self.settle()
        return _violation("publish", subject) in self.errors[seen:]

    async def refused_subscribe(self, subject: str, received: list[Msg] | None = None) -> bool:
        seen = len(self.errors)

        async def keep(msg: Msg) -> None:
            if received is not None:
                received.append(msg)

        await self.nc.subscribe(subject, cb=keep)
        await self.settle()
        return _violation("subscription", subject) in self.errors[seen:]

    async def settle(self) -> None:
        """Return once the server has answered everything sent so far. nats-py writes a flush's PING ahead of the
        commands still buffered, so the first round trip sends them and the second one follows them."""
        await self.nc.flush()
        await self.nc.flush()


def _violation(kind: str, subject: str) -> str:
    return f'nats: permissions violation for {kind} to "{subject}"'.lower()


@pytest.fixture
async def connect(authed: NatsServer) -> AsyncIterator[object]:
    opened: list[NATS] = []

    async def open_as(user: str) -> Conn:
        conn = Conn(nc=NATS())

        async def on_error(exc: Exception) -> None:
            conn.errors.append(str(exc).lower())

        await conn.nc.connect(
            authed.url,
            user=user,
            password=PASSWORDS[user],
            inbox_prefix=inbox_prefix(user),
            error_cb=on_error,
            allow_reconnect=False,
        )
        opened.append(conn.nc)
        return conn

    yield open_as
    for nc in opened:
        await nc.close()


async def ops_bus(server: NatsServer) -> Bus:
    bus = Bus(server.url, name="test-ops", user=OPS, password=PASSWORDS[OPS])
    await bus.connect()
    return bus


async def test_only_the_hubs_users_may_connect(authed: NatsServer) -> None:
    with pytest.raises(Exception, match="[Aa]uthorization"):
        await nats.connect(authed.url, allow_reconnect=False, connect_timeout=2)
    with pytest.raises(Exception, match="[Aa]uthorization"):
        await nats.connect(authed.url, user="agency", password="guess", allow_reconnect=False, connect_timeout=2)
    assert authed.config_path.stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(config_password("probe") == "probe", reason="this Python has no bcrypt (crypt module)")
async def test_the_servers_config_holds_bcrypt_hashes_not_passwords(authed: NatsServer) -> None:
    config = authed.config_path.read_text()
    assert config.count('"$2b$10$') == len(USERS)
    assert not any(password in config for password in PASSWORDS.values())


async def test_agency_cannot_subscribe_to_intakes_private_subjects(authed: NatsServer, connect) -> None:
    agency: Conn = await connect("agency")
    ops: Conn = await connect(OPS)
    leaked: list[Msg] = []
    for subject in (f"{PRIVATE_ROOT}.>", PRIVATE_SUBJECT, "private.>", ">"):
        assert await agency.refused_subscribe(subject, leaked), subject
    witnessed: list[Msg] = []
    assert not await ops.refused_subscribe(f"{PRIVATE_ROOT}.>", witnessed)

    intake = Bus(authed.url, name="test-intake", user="intake", password=PASSWORDS["intake"])
    await intake.connect()
    try:
        await intake.publish(PRIVATE_SUBJECT, b'{"email": "siti@example.test"}', headers={"Nats-Msg-Id": "c-1"})
    finally:
        await intake.close()

    await eventually(lambda: _truthy(witnessed))
    await agency.settle()
    assert leaked == [], "agency received a private message"
    assert "Subscription Violation" in (authed.data_dir / "nats-server.log").read_text()


async def test_agency_cannot_read_the_private_stream_through_jetstream(authed: NatsServer, connect) -> None:
    agency: Conn = await connect("agency")
    notify: Conn = await connect("notify")
    replies: list[Msg] = []
    inbox = f"{inbox_prefix('agency')}.probe"
    assert not await agency.refused_subscribe(inbox, replies)
    consumer = {"stream_name": PRIVATE_STREAM, "config": ConsumerConfig(durable_name="agency-inbox").as_dict()}
    ephemeral = {"stream_name": PRIVATE_STREAM, "config": ConsumerConfig(ack_policy=AckPolicy.NONE).as_dict()}
    attempts = [
        (f"$JS.API.CONSUMER.DURABLE.CREATE.{PRIVATE_STREAM}.agency-inbox", consumer),
        (f"$JS.API.CONSUMER.CREATE.{PRIVATE_STREAM}.agency-inbox", consumer),
        (f"$JS.API.CONSUMER.CREATE.{PRIVATE_STREAM}.agency-inbox.{PRIVATE_SUBJECT}", consumer),
        (f"$JS.API.CONSUMER.CREATE.{PRIVATE_STREAM}", ephemeral),
        (f"$JS.API.CONSUMER.MSG.NEXT.{PRIVATE_STREAM}.notify-contacts", {"batch": 1}),
        (f"$JS.API.STREAM.MSG.GET.{PRIVATE_STREAM}", {"seq": 1}),
        (f"$JS.API.DIRECT.GET.{PRIVATE_STREAM}", {"seq": 1}),
        (f"$JS.API.DIRECT.GET.{PRIVATE_STREAM}.{PRIVATE_SUBJECT}", {}),
        (f"$JS.API.STREAM.MSG.GET.{DLQ_STREAM}", {"seq": 1}),
        ("$JS.API.STREAM.CREATE.AGENCY_COPY", {"name": "AGENCY_COPY", "sources": [{"name": PRIVATE_STREAM}]}),
        (f"$JS.API.STREAM.UPDATE.{STREAM}", {"name": STREAM, "sources": [{"name": PRIVATE_STREAM}]}),
    ]
    for subject, body in attempts:
        assert await agency.refused_publish(subject, json.dumps(body).encode(), reply=inbox), subject
    # The same kind of request, by notify for its own durable, is served: the refusals above are the permissions.
    own = {"stream_name": PRIVATE_STREAM, "config": ConsumerConfig(durable_name="notify-contacts").as_dict()}
    notify_inbox = f"{inbox_prefix('notify')}.probe"
    served: list[Msg] = []
    assert not await notify.refused_subscribe(notify_inbox, served)
    subject = f"$JS.API.CONSUMER.DURABLE.CREATE.{PRIVATE_STREAM}.notify-contacts"
    assert not await notify.refused_publish(subject, json.dumps(own).encode(), reply=notify_inbox)
    await eventually(lambda: _truthy(served))

    ops = await ops_bus(authed)
    try:
        names = {c.name for c in await ops.js.consumers_info(PRIVATE_STREAM)}
        assert names == {"notify-contacts"}
        with pytest.raises(NotFoundError):
            await ops.js.stream_info("AGENCY_COPY")
        assert not (await ops.js.stream_info(STREAM)).config.sources
    finally:
        await ops.close()
    await agency.settle()
    assert replies == []


async def test_agency_cannot_publish_others_events(authed: NatsServer, connect) -> None:
    agency: Conn = await connect("agency")
    for subject in (
        "simpul.complaint.submitted",
        PRIVATE_SUBJECT,
        "simpul.complaint.status_changed",
        "simpul.auth.key_issued",
        "dlq.notify-contacts",
        f"$JS.ACK.{PRIVATE_STREAM}.notify-contacts.1.1.1.0.0",
    ):
        assert await agency.refused_publish(subject, b"{}"), subject
    assert not await agency.refused_publish("simpul.agency.acknowledged", b"{}")
    ops = await ops_bus(authed)
    try:
        info = await ops.js.stream_info(STREAM, subjects_filter=">")
        assert set(info.state.subjects or {}) == {"simpul.agency.acknowledged"}
        assert (await ops.js.stream_info(PRIVATE_STREAM)).state.messages == 0
    finally:
        await ops.close()


def _concrete(subject: str) -> str:
    return subject.replace(">", "x").replace("*", "x")


def _covered(subject: str, patterns: tuple[str, ...]) -> bool:
    return any(subject_matches(p, subject) for p in patterns)


@pytest.mark.parametrize("user", list(GRANTS))
async def test_every_service_is_held_to_its_own_subjects(authed: NatsServer, connect, user: str) -> None:
    conn: Conn = await connect(user)
    mine = publish_allowed(user)
    for subject in mine:
        assert not await conn.refused_publish(_concrete(subject)), subject
    assert not await conn.refused_subscribe(f"{inbox_prefix(user)}.x")

    others = [_concrete(s) for other in GRANTS if other != user for s in publish_allowed(other)]
    forbidden = [s for s in others if not _covered(s, mine)]
    for stream in (STREAM, PRIVATE_STREAM, DLQ_STREAM):
        forbidden += [f"$JS.API.STREAM.{verb}.{stream}" for verb in ("CREATE", "UPDATE", "DELETE", "PURGE", "MSG.GET")]
        forbidden += [f"$JS.API.DIRECT.GET.{stream}", f"$JS.API.CONSUMER.CREATE.{stream}"]
        forbidden += [f"$JS.API.CONSUMER.LIST.{stream}", f"$JS.API.CONSUMER.NAMES.{stream}"]
    forbidden += [f"$JS.API.CONSUMER.DELETE.{stream}.{durable}" for stream, durable in GRANTS[user].durables]
    forbidden += ["$JS.API.STREAM.LIST", "$JS.API.INFO", "_INBOX.x", "dlq.x", "x"]
    for bucket in BUCKETS:
        forbidden += _forbidden_on_bucket(bucket, user)
    if not _touches_files(user):
        forbidden.append(STREAM_NAMES)
    assert len(forbidden) > 60
    for subject in forbidden:
        assert await conn.refused_publish(subject), subject
    refused_subscriptions = [">", "simpul.>", "private.>", "dlq.>", "$JS.>", "_INBOX.>"]
    refused_subscriptions += [f"{inbox_prefix(other)}.>" for other in USERS if other != user]
    for subject in refused_subscriptions:
        assert await conn.refused_subscribe(subject), subject


def _touches_files(user: str) -> bool:
    return any(user == b.owner.value or user in b.readers for b in BUCKETS)


def _forbidden_on_bucket(bucket: Bucket, user: str) -> list[str]:
    """What `user` may not send about a bucket: no one but ops may make, change or delete its stream, delete one
    message, read it bypassing the metadata lookups, or bind a named consumer; only its owner may write or purge it;
    and a service that neither owns nor reads it may not even look it up."""
    stream = bucket.stream
    subjects = [f"$JS.API.STREAM.{verb}.{stream}" for verb in ("CREATE", "UPDATE", "DELETE", "MSG.DELETE")]
    subjects += [f"$JS.API.DIRECT.GET.{stream}", f"$JS.API.DIRECT.GET.{stream}.$O.{bucket.name}.M.x"]
    subjects += [f"$JS.API.CONSUMER.{verb}.{stream}.x" for verb in ("CREATE", "DURABLE.CREATE", "DELETE", "INFO")]
    subjects += [f"$JS.API.CONSUMER.LIST.{stream}", f"$JS.API.CONSUMER.NAMES.{stream}"]
    if user != bucket.owner.value:
        subjects += [f"$O.{bucket.name}.C.x", f"$O.{bucket.name}.M.x", f"$JS.API.STREAM.PURGE.{stream}"]
    if user != bucket.owner.value and user not in bucket.readers:
        subjects += [f"$JS.API.STREAM.INFO.{stream}", f"$JS.API.STREAM.MSG.GET.{stream}"]
        subjects += [f"$JS.API.CONSUMER.CREATE.{stream}", f"$JS.FC.{stream}.x.1"]
    return subjects


def test_the_grants_cover_every_event_and_only_intake_publishes_private_ones() -> None:
    assert set(GRANTS) == {s.name for s in SERVICES}
    assert {route.contract for route in ROUTES} == set(EVENT_MODELS.values())
    for route in ROUTES:
        subject = route.subject.replace("*", "NODE")
        publishers = [s for s in GRANTS if _covered(subject, GRANTS[s].publishes)]
        assert publishers == [route.publisher.value], (subject, publishers)
        if route.contract.private:
            assert publishers == ["intake"]
    readers = [s for s, g in GRANTS.items() for stream, _ in g.durables if stream == PRIVATE_STREAM]
    assert readers == ["notify"]


async def test_simpul_dlq_reads_dead_letters_as_ops_and_replays_only_what_a_durable_could_write(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "hub"
    hub = load_or_create(data_dir, [], "sk_admin_cli-test-0123456789abcdefghijkl")
    server = NatsServer(data_dir=data_dir / "nats", users=hub_users(hub.nats_passwords))
    server.start()
    try:
        await create_streams(server.url, hub.nats_passwords[OPS])
        ops = Bus(server.url, name="test-ops", user=OPS, password=hub.nats_passwords[OPS])
        await ops.connect()
        status = ComplaintStatusChanged(
            tracking_id="LPR-DLQ",
            status=Status.dispositioned,
            actor="system",
            case_version=2,
            changed_at=datetime.now(UTC),
        )
        genuine = encode_event(new_event(status, source="routing"))
        seq = await ops.publish(status.subject(), genuine, headers={"Nats-Msg-Id": "genuine"})
        forged = encode_event(new_event(status.model_copy(update={"case_version": 9}), source="routing"))
        agency = Bus(server.url, name="test-agency", user="agency", password=hub.nats_passwords["agency"])
        await agency.connect()
        letters = [  # (Simpul-Durable, Simpul-Subject, payload): the first is genuine, the others are forged by agency
            ("agency-inbox", "simpul.complaint.status_changed", genuine),
            ("agency-inbox", "simpul.complaint.submitted", genuine),
            ("notify-contacts", "private.notify.contact.registered", genuine),
            ("agency-inbox", "simpul.complaint.status_changed", forged),
        ]
        try:
            for n, (durable, subject, payload) in enumerate(letters):
                headers = {
                    "Simpul-Durable": durable,
                    "Simpul-Subject": subject,
                    "Simpul-Stream": STREAM,
                    "Simpul-Stream-Seq": str(seq),
                }
                await agency.publish("dlq.agency-inbox", payload, headers={"Nats-Msg-Id": f"d-{n}", **headers})
        finally:
            await agency.close()
        cli = ["-m", "services.cli", "dlq", "--data-dir", str(data_dir), "--nats-url", server.url]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}

        async def simpul_dlq(*args: str) -> tuple[int, str]:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, *cli, *args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
            )
            try:
                out, _ = await asyncio.wait_for(proc.communicate(), 20)
            except TimeoutError:
                proc.kill()
                out, _ = await proc.communicate()
                raise AssertionError(out.decode()) from None
            return proc.returncode or 0, out.decode()

        listed = await simpul_dlq("list")
        replayed = await simpul_dlq("replay", "--all")
        republished = await ops.js.stream_info(STREAM)
        await ops.close()
    finally:
        server.stop()
    assert listed[0] == 0 and "agency-inbox" in listed[1] and "4 dead letter(s)" in listed[1], listed
    code, out = replayed
    assert code == 1 and "1 replayed, 3 refused" in out, out
    assert "forged: a complaint.status_changed event arrived on 'simpul.complaint.submitted'" in out
    assert "names durable 'notify-contacts' but arrived on 'dlq.agency-inbox'" in out
    assert f"it is not the message {STREAM} #{seq} holds" in out
    assert republished.state.messages == 2, "only the genuine letter went back on the stream, beside its original"


async def _truthy(items: list[Msg]) -> bool:
    return bool(items)


def test_simpul_up_gives_each_service_its_own_user_and_keys_and_keeps_them(tmp_path: Path) -> None:
    first = load_or_create(tmp_path, [s.name for s in SERVICES], None)
    again = load_or_create(tmp_path, [s.name for s in SERVICES], None)
    assert set(first.nats_passwords) == set(USERS)
    assert again.nats_passwords == first.nats_passwords, "made once, then kept"
    assert (again.encryption_keys, again.channel_keys) == (first.encryption_keys, first.channel_keys)
    own = [first.encryption_keys[s.name][0] for s in SERVICES]
    assert len(set(own)) == len(SERVICES), "each service has keys of its own"
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600
    hub = HubSetup(
        data_dir=tmp_path, nats_url="nats://127.0.0.1:1", secrets=first, gateway_url="", postgres=None, schema_prefix=""
    )
    for spec in SERVICES:
        env = service_env(spec, hub, port=1)
        assert env[f"{spec.env_prefix}NATS_USER"] == spec.name
        assert env[f"{spec.env_prefix}NATS_PASSWORD"] == first.nats_passwords[spec.name]
        assert first.nats_passwords[OPS] not in env.values(), "no service gets the ops password"
        assert env[f"{spec.env_prefix}ENCRYPTION_KEYS"] == first.encryption_keys[spec.name][0]
        rings = {c: env.get(f"{spec.env_prefix}{c.upper()}_KEYS") for c in CHANNELS}
        assert {c for c, keys in rings.items() if keys} == set(spec.channels), "only the rings it needs"
        assert all(keys == first.channel_keys[c][0] for c, keys in rings.items() if keys)


def _bucket_id(bucket: Bucket) -> str:
    return bucket.name


async def _object_store(conn: Conn, bucket: Bucket, timeout: float = 5.0) -> ObjectStore:
    return await conn.nc.jetstream(timeout=timeout).object_store(bucket.name)


async def _times_out_refused(conn: Conn, attempt: Awaitable[object], *refused: str) -> None:
    """The attempt fails for want of an answer, and the broker refused a publish to each of the `refused` subjects
    (each a prefix) on the way."""
    seen = len(conn.errors)
    with pytest.raises(nats.errors.TimeoutError):
        await attempt
    await conn.settle()
    errors = conn.errors[seen:]
    for prefix in refused:
        assert any(e.startswith(_violation("publish", prefix.lower())[:-1]) for e in errors), (prefix, errors)


async def test_ops_creates_each_bucket_as_the_streams_and_a_services_bus_never_does(
    authed: NatsServer, connect
) -> None:
    ops: Conn = await connect(OPS)
    js = ops.nc.jetstream()
    created = {}
    for bucket in BUCKETS:
        info = await js.stream_info(bucket.stream)
        config = info.config
        assert config.subjects == [f"$O.{bucket.name}.C.>", f"$O.{bucket.name}.M.>"]
        assert (config.storage, config.num_replicas, config.discard) == (StorageType.FILE, 1, DiscardPolicy.NEW)
        assert config.allow_rollup_hdrs, "an object's metadata replaces the one before it"
        created[bucket.name] = info.created

    await create_streams(authed.url, PASSWORDS[OPS])
    assert {b.name: (await js.stream_info(b.stream)).created for b in BUCKETS} == created, "left as they were"

    # Without its bucket a service starts all the same (its streams are there), and finds the bucket missing.
    await js.delete_object_store(FILES_INTAKE.name)
    intake = Bus(authed.url, name="test-intake", user="intake", password=PASSWORDS["intake"])
    await intake.connect()
    try:
        with pytest.raises(BucketNotFoundError):
            await intake.js.object_store(FILES_INTAKE.name)
    finally:
        await intake.close()
    await ensure_buckets(js)
    assert (await js.stream_info(FILES_INTAKE.stream)).config.num_replicas == 1


@pytest.mark.parametrize("bucket", BUCKETS, ids=_bucket_id)
async def test_a_buckets_owner_puts_gets_updates_lists_and_deletes_its_files(
    authed: NatsServer, connect, bucket: Bucket
) -> None:
    owner: Conn = await connect(bucket.owner.value)
    obs = await _object_store(owner, bucket)
    data = secrets.token_bytes(MIB)
    info = await obs.put("LPR-1/berkas-1", data)
    assert (info.size, info.chunks) == (MIB, 8)
    assert (await obs.get("LPR-1/berkas-1")).data == data
    await obs.update_meta("LPR-1/berkas-1", ObjectMeta(name="LPR-1/berkas-1", description="bukti"))
    assert (await obs.get_info("LPR-1/berkas-1")).description == "bukti"
    await obs.put("LPR-1/berkas-2", b"%PDF-1.7 kedua")
    await obs.put("LPR-1/berkas-2", b"%PDF-1.7 diganti")  # the first one's chunks are purged
    assert (await obs.get("LPR-1/berkas-2")).data == b"%PDF-1.7 diganti"
    assert sorted(i.name for i in await obs.list()) == ["LPR-1/berkas-1", "LPR-1/berkas-2"]

    await obs.delete("LPR-1/berkas-1")
    with pytest.raises(ObjectNotFoundError):
        await obs.get("LPR-1/berkas-1")
    assert [i.name for i in await obs.list(ignore_deletes=True)] == ["LPR-1/berkas-2"]
    await owner.settle()
    assert owner.errors == []
    ops: Conn = await connect(OPS)
    state = (await ops.nc.jetstream().stream_info(bucket.stream)).state
    assert state.messages == 3, "two objects' metadata and the live one's chunk: no chunk is left behind"


@pytest.mark.parametrize(
    ("bucket", "reader"),
    [(b, r.value) for b in BUCKETS for r in b.readers],
    ids=lambda v: v.name if isinstance(v, Bucket) else v,
)
async def test_a_reader_gets_and_lists_a_bucket_but_may_not_put_delete_or_update_meta(
    authed: NatsServer, connect, bucket: Bucket, reader: str
) -> None:
    owner: Conn = await connect(bucket.owner.value)
    mine = await _object_store(owner, bucket)
    data = secrets.token_bytes(10 * MIB)  # big enough for the consumer to ask for flow control replies
    await mine.put("LPR-2/foto.jpg", data, ObjectMeta(description="asli"))

    conn: Conn = await connect(reader)
    obs = await _object_store(conn, bucket)
    assert (await obs.get("LPR-2/foto.jpg")).data == data
    assert [(i.name, i.size) for i in await obs.list()] == [("LPR-2/foto.jpg", 10 * MIB)]
    assert (await obs.get_info("LPR-2/foto.jpg")).description == "asli"
    await conn.settle()
    assert conn.errors == []

    tries = await _object_store(conn, bucket, timeout=REFUSED_WITHIN_S)
    chunks, meta, purge = f"$O.{bucket.name}.C.", f"$O.{bucket.name}.M.", f"$JS.API.STREAM.PURGE.{bucket.stream}"
    await _times_out_refused(conn, tries.put("LPR-2/foto.jpg", b"palsu"), chunks, purge)
    edit = ObjectMeta(name="LPR-2/foto.jpg", description="diubah")
    await _times_out_refused(conn, tries.update_meta("LPR-2/foto.jpg", edit), meta)
    await _times_out_refused(conn, tries.delete("LPR-2/foto.jpg"), meta, purge)

    assert (await mine.get("LPR-2/foto.jpg")).data == data, "the reader changed nothing"
    assert [(i.name, i.description) for i in await mine.list()] == [("LPR-2/foto.jpg", "asli")]


async def test_notify_can_neither_find_nor_read_a_bucket(authed: NatsServer, connect) -> None:
    notify: Conn = await connect("notify")
    js = notify.nc.jetstream(timeout=REFUSED_WITHIN_S)
    for bucket in BUCKETS:
        owner: Conn = await connect(bucket.owner.value)
        await (await _object_store(owner, bucket)).put("LPR-3/surat.pdf", b"%PDF-1.7 rahasia")
        await _times_out_refused(notify, js.object_store(bucket.name), f"$JS.API.STREAM.INFO.{bucket.stream}")
        # Even knowing the stream, the object's metadata is refused, and with it the object.
        unlooked = ObjectStore(bucket.name, bucket.stream, js)
        await _times_out_refused(notify, unlooked.get("LPR-3/surat.pdf"), f"$JS.API.STREAM.MSG.GET.{bucket.stream}")
        leaked: list[Msg] = []
        assert await notify.refused_subscribe(f"$O.{bucket.name}.>", leaked)
        await notify.settle()
        assert leaked == []


@pytest.mark.parametrize("user", list(GRANTS))
async def test_no_service_may_create_a_bucket(authed: NatsServer, connect, user: str) -> None:
    conn: Conn = await connect(user)
    attempt = conn.nc.jetstream(timeout=REFUSED_WITHIN_S).create_object_store("simpul-files-mine")
    await _times_out_refused(conn, attempt, "$JS.API.STREAM.CREATE.OBJ_simpul-files-mine")
    ops: Conn = await connect(OPS)
    with pytest.raises(NotFoundError):
        await ops.nc.jetstream().stream_info("OBJ_simpul-files-mine")


async def test_a_consumer_on_a_bucket_delivered_elsewhere_passes_for_no_event(authed: NatsServer, connect) -> None:
    """The broker does not check where a consumer delivers: agency, owner of a bucket, may point one at routing's
    subject. What arrives keeps its `$O.` subject, so no consumer of events takes it for one."""
    agency: Conn = await connect("agency")
    forged = encode_event(
        new_event(
            ComplaintStatusChanged(
                tracking_id="LPR-4",
                status=Status.completed,
                actor="system",
                case_version=9,
                changed_at=datetime.now(UTC),
            ),
            source="routing",
        )
    )
    await (await _object_store(agency, FILES_AGENCY)).put("forged", forged)
    ops: Conn = await connect(OPS)
    witnessed: list[Msg] = []
    assert not await ops.refused_subscribe("simpul.complaint.status_changed", witnessed)  # someone is listening

    inbox = f"{inbox_prefix('agency')}.probe"
    answers: list[Msg] = []
    assert not await agency.refused_subscribe(inbox, answers)
    config = ConsumerConfig(
        deliver_subject="simpul.complaint.status_changed",
        ack_policy=AckPolicy.NONE,
        filter_subject=f"$O.{FILES_AGENCY.name}.C.>",
    )
    request = {"stream_name": FILES_AGENCY.stream, "config": config.as_dict()}
    subject = f"$JS.API.CONSUMER.CREATE.{FILES_AGENCY.stream}"
    assert not await agency.refused_publish(subject, json.dumps(request).encode(), reply=inbox)
    await eventually(lambda: _truthy(answers))
    assert b'"error"' not in answers[0].data, answers[0].data

    await eventually(lambda: _truthy(witnessed))
    assert [m.subject[: len(f"$O.{FILES_AGENCY.name}.C.")] for m in witnessed] == [f"$O.{FILES_AGENCY.name}.C."]
    js = ops.nc.jetstream()

    async def stored() -> int:
        return (await js.stream_info(STREAM)).state.messages

    with contextlib.suppress(AssertionError):  # nats-server 2.15 takes the delivery in (the stream hears its subject)
        await eventually(stored, timeout=2)
    info = await js.stream_info(STREAM, subjects_filter=">")
    assert not [s for s in info.state.subjects or {} if s.startswith("simpul.")], info.state.subjects
