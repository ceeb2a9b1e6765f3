"""The broker's users: one per service, each allowed only its own subjects, and `ops` for the command line and tests.

Every service connects as its own user (`intake`, `routing`, `agency`, `notify`); their passwords are made once
and kept in the data folder's secrets.json. The server's config holds bcrypt hashes of them (cost 10) when this
Python can make one (the stdlib `crypt` module, up to 3.12), else the passwords themselves in a 0600 file.

The grants come from the event topology (shared.events.topology): a service may publish:
- the subjects of the events the topology names it the publisher of (`GRANTS[...].publishes`): so only intake the
  private one (`private.notify.contact.registered`), and notify none;
- `$JS.API.STREAM.INFO.<stream>` for the three streams: it checks them at start but may not create, change or
  delete them. `ops` creates them (`simpul up` does, before the services start): a user who could create a stream
  could make one that sources SIMPUL_PRIVATE, and read it;
- for each of its own durables D on stream S, and nothing else of JetStream:
  `$JS.API.CONSUMER.DURABLE.CREATE.S.D`, `$JS.API.CONSUMER.CREATE.S.D`, `$JS.API.CONSUMER.CREATE.S.D.>` (create or
  update D), `$JS.API.CONSUMER.INFO.S.D`, `$JS.API.CONSUMER.MSG.NEXT.S.D` (fetch), `$JS.ACK.S.D.>` (ack, nak,
  in-progress, term), and `dlq.D` (its dead letters).

Files (the JetStream Object Store buckets of shared.events.topology.BUCKETS, each stream `OBJ_<bucket>`), by what
nats-py's ObjectStore sends:
- a bucket's owner may put, replace, delete and update the metadata of its objects: publish `$O.<bucket>.C.>`
  (chunks) and `$O.<bucket>.M.>` (metadata), and `$JS.API.STREAM.PURGE.OBJ_<bucket>` (a deleted or replaced
  object's chunks are purged);
- its owner and its readers may look it up and read it: `$JS.API.STREAM.INFO.OBJ_<bucket>` (`js.object_store`),
  `$JS.API.STREAM.MSG.GET.OBJ_<bucket>` (an object's metadata), `$JS.API.CONSUMER.CREATE.OBJ_<bucket>` (the
  ephemeral ordered consumer that delivers an object's chunks, or the metadata for a listing, to the user's inbox),
  `$JS.FC.OBJ_<bucket>.>` (that consumer's flow control replies), and `$JS.API.STREAM.NAMES` (the client finds the
  stream by the chunks' subject; it lists stream names, nothing they hold).
A reader may not write, purge or delete anything in the bucket; no one but `ops` may create, change or delete a
bucket's stream; a service that neither owns nor reads a bucket (notify) gets none of these. The broker does not
check where a consumer delivers, but what a bucket's consumer delivers keeps its `$O.` subject, so it passes for no
event (shared.events.origin believes the subject).

A service may subscribe to `_INBOX.<user>.>` only: its Bus takes its replies there (shared.bus.nats_bus.inbox_prefix),
and the fetched messages arrive there too, so no user can read another's replies.

So no service but notify can read SIMPUL_PRIVATE in any way: no core subscription to `private.>`, no consumer on it,
no `$JS.API.STREAM.MSG.GET` or `$JS.API.DIRECT.GET` on it, no other user's inbox. The SIMPUL_DLQ stream (which may
hold a dead private event) is read by `ops` alone. `ops` has no limits: it creates the streams and the buckets, and
reads and replays dead letters (`simpul dlq`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.bus.nats_bus import DLQ_STREAM, PRIVATE_STREAM, STREAM, inbox_prefix
from shared.events.topology import BUCKETS, Bucket, Service, durables_of, publishable_subjects

OPS = "ops"
BCRYPT_COST = 10
"""Go's bcrypt.DefaultCost. The passwords are 256 random bits, so the cost guards nothing; it only costs a connect."""


STREAM_NAMES = "$JS.API.STREAM.NAMES"


@dataclass(frozen=True)
class Grants:
    """What one service does on the broker: the subjects it publishes, its durables as (stream, durable), and the
    buckets of files it writes and those it only reads."""

    publishes: tuple[str, ...]
    durables: tuple[tuple[str, str], ...]
    writes: tuple[Bucket, ...] = ()
    reads: tuple[Bucket, ...] = ()


def grants_of(service: Service) -> Grants:
    """What the topology lets a service do: publish its events' subjects, bind its own durables, write the bucket it
    owns and read those it is a reader of."""
    return Grants(
        publishes=publishable_subjects(service),
        durables=tuple((durable.stream, durable.name) for durable in durables_of(service)),
        writes=tuple(b for b in BUCKETS if b.owner is service),
        reads=tuple(b for b in BUCKETS if service in b.readers),
    )


def bucket_read_subjects(bucket: Bucket) -> tuple[str, ...]:
    """What nats-py's ObjectStore sends to look a bucket up (`js.object_store`), and to get, list and read the
    metadata of its objects, but for `$JS.API.STREAM.NAMES`, which is not the bucket's own."""
    return (
        f"$JS.API.STREAM.INFO.{bucket.stream}",
        f"$JS.API.STREAM.MSG.GET.{bucket.stream}",
        f"$JS.API.CONSUMER.CREATE.{bucket.stream}",
        f"$JS.FC.{bucket.stream}.>",
    )


def bucket_write_subjects(bucket: Bucket) -> tuple[str, ...]:
    """What it sends besides to put an object, replace it, update its metadata or delete it."""
    return (f"$O.{bucket.name}.C.>", f"$O.{bucket.name}.M.>", f"$JS.API.STREAM.PURGE.{bucket.stream}")


GRANTS: dict[str, Grants] = {service.value: grants_of(service) for service in Service}

USERS: tuple[str, ...] = (*GRANTS, OPS)


def grants_table() -> str:
    """deploy/README.md's table of who may publish what, bind which durables and write or read which buckets of files
    (a Markdown table)."""
    lines = ["| user | its events | its durables (stream: durable) | its files (buckets) |", "|---|---|---|---|"]
    for user, grants in GRANTS.items():
        events = ", ".join(f"`{s}`" for s in grants.publishes) or "none"
        streams: dict[str, list[str]] = {}
        for stream, durable in grants.durables:
            streams.setdefault(stream, []).append(f"`{durable}`")
        durables = "; ".join(f"{stream}: {', '.join(names)}" for stream, names in streams.items())
        files = [f"writes `{b.name}`" for b in grants.writes] + [f"reads `{b.name}`" for b in grants.reads]
        lines.append(f"| {user} | {events} | {durables} | {'; '.join(files) or 'none'} |")
    lines.append(
        f"| {OPS} | everything (no permissions block) | reads `SIMPUL_DLQ` and replays dead letters"
        " | creates the buckets (`simpul streams`) |"
    )
    return "\n".join(lines)


@dataclass(frozen=True)
class NatsUser:
    """One user as the server's config holds it; `publish` and `subscribe` of None allow every subject."""

    name: str
    password: str
    publish: tuple[str, ...] | None = None
    subscribe: tuple[str, ...] | None = None

    def config(self) -> dict[str, object]:
        entry: dict[str, object] = {"user": self.name, "password": self.password}
        permissions = {
            verb: {"allow": list(subjects)}
            for verb, subjects in (("publish", self.publish), ("subscribe", self.subscribe))
            if subjects is not None
        }
        if permissions:
            entry["permissions"] = permissions
        return entry


def publish_allowed(service: str) -> tuple[str, ...]:
    grants = GRANTS[service]
    subjects = [*grants.publishes, *(f"$JS.API.STREAM.INFO.{s}" for s in (STREAM, PRIVATE_STREAM, DLQ_STREAM))]
    for stream, durable in grants.durables:
        subjects += [
            f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
            f"$JS.API.CONSUMER.CREATE.{stream}.{durable}",
            f"$JS.API.CONSUMER.CREATE.{stream}.{durable}.>",
            f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
            f"$JS.ACK.{stream}.{durable}.>",
            f"dlq.{durable}",
        ]
    for bucket in grants.writes:
        subjects += [*bucket_read_subjects(bucket), *bucket_write_subjects(bucket)]
    for bucket in grants.reads:
        subjects += bucket_read_subjects(bucket)
    if grants.writes or grants.reads:
        subjects.append(STREAM_NAMES)
    return tuple(subjects)


def subscribe_allowed(service: str) -> tuple[str, ...]:
    return (f"{inbox_prefix(service)}.>",)


def hub_users(passwords: Mapping[str, str]) -> tuple[NatsUser, ...]:
    """The four services and `ops`, from their plaintext passwords (hashed here, once)."""
    users = [NatsUser(s, config_password(passwords[s]), publish_allowed(s), subscribe_allowed(s)) for s in GRANTS]
    return (*users, NatsUser(OPS, config_password(passwords[OPS])))


def authorization_config(users: Sequence[NatsUser]) -> str:
    """The server config's `authorization` block (JSON is valid NATS config, and its quoting keeps `$` literal)."""
    return "authorization: " + json.dumps({"users": [u.config() for u in users]}, indent=2) + "\n"


def config_password(password: str) -> str:
    hashed = _bcrypt(password)
    return hashed if hashed is not None else password


def _bcrypt(password: str) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt
    except ImportError:
        return None
    try:
        salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2**BCRYPT_COST)  # noqa: S324 - bcrypt, as nats-server reads
        hashed = crypt.crypt(password, salt)
    except OSError:
        return None
    return hashed if hashed is not None and hashed.startswith("$2") else None
