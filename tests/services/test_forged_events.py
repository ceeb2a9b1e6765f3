"""One service's broker credentials cannot forge another service's events.

A real nats-server that admits only the hub's users, agency_svc connected as `agency`, and an attacker holding
intake's credentials: what intake may publish reaches agency's inbox, but an event whose type or source is not
intake's is dead-lettered, not believed; and a forged dead letter is not replayed by `ops`.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from nats.js.api import AckPolicy, ConsumerConfig

from agency_svc.app import create_app
from agency_svc.models import Case
from agency_svc.settings import AgencySettings
from services.nats_users import OPS, USERS, hub_users
from services.natsd import NatsServer
from services.up import create_streams
from shared.bus import STREAM, Bus
from shared.bus.dlq import DeadLetter, ReplayRefused, get_dead_letter, iter_dead_letters, replay
from shared.domain import Channel, Classification, RouteKind, Status
from shared.events import Envelope, encode_event, new_event
from shared.events.contracts import CaseSnapshot, ComplaintDispositioned, ComplaintStatusChanged, ReporterReplied
from shared.events.topology import AGENCY_INBOX, INTAKE_REPORTER_VIEW
from shared.runtime import Runtime
from tests.support.apps import eventually, running_service, service_settings
from tests.support.databases import TestDatabase

PASSWORDS = {user: secrets.token_urlsafe(32) for user in USERS}
NODE = "KANWIL-JATIM"
INTAKES_SUBJECT = "simpul.reporter.replied"
"""A subject intake may publish on, which agency's inbox reads."""


@dataclass
class Broker:
    app: FastAPI
    client: httpx.AsyncClient
    ops: Bus
    intake: Bus

    async def case(self, tracking_id: str) -> Case | None:
        runtime: Runtime = self.app.state.runtime
        async with runtime.db.session() as session:
            return await session.get(Case, tracking_id)


@pytest.fixture
async def broker(database: TestDatabase, tmp_path: Path) -> AsyncIterator[Broker]:
    server = NatsServer(data_dir=tmp_path / "nats", users=hub_users(PASSWORDS))
    server.start()
    try:
        await create_streams(server.url, PASSWORDS[OPS])
        settings = service_settings(
            AgencySettings, database, server, tmp_path, nats_user="agency", nats_password=PASSWORDS["agency"]
        )
        async with running_service("agency_svc", create_app, settings) as (app, client):
            ops = Bus(server.url, name="test-ops", user=OPS, password=PASSWORDS[OPS])
            intake = Bus(server.url, name="test-intake", user="intake", password=PASSWORDS["intake"])
            await ops.connect()
            await intake.connect()
            try:
                yield Broker(app=app, client=client, ops=ops, intake=intake)
            finally:
                await intake.close()
                await ops.close()
    finally:
        server.stop()


def disposition(tracking_id: str) -> ComplaintDispositioned:
    return ComplaintDispositioned(
        tracking_id=tracking_id,
        agency_code=NODE,
        route_kind=RouteKind.coordinator,
        reason="Dialihkan",
        actor="system",
        case_version=1,
        case=CaseSnapshot(
            title="Kasus palsu",
            content="Dikirim dengan kredensial intake.",
            classification=Classification.pengaduan,
            channel=Channel.web,
            is_anonymous=True,
            is_confidential=False,
            submitted_at=datetime.now(UTC),
        ),
    )


async def forged_count(client: httpx.AsyncClient) -> float:
    """agency's count of forged events on its inbox, as /metrics shows it."""
    name = f'simpul_events_forged_total{{durable="{AGENCY_INBOX.name}",service="agency"}} '
    text = (await client.get("/metrics")).text
    return next((float(line.removeprefix(name)) for line in text.splitlines() if line.startswith(name)), 0.0)


def new_tid() -> str:
    return f"LPR-{uuid.uuid4().hex[:12].upper()}"


async def letters_of(ops: Bus, durable: str, count: int) -> list[DeadLetter] | None:
    found = [letter async for letter in iter_dead_letters(ops.js, durable)]
    return found if len(found) >= count else None


async def forge_as_intake(broker: Broker, tracking_id: str, source: str) -> int:
    """intake's user publishes a disposition on a subject it may publish on; the broker takes it: its sequence."""
    env = new_event(disposition(tracking_id), source=source)
    return await broker.intake.publish(INTAKES_SUBJECT, encode_event(env), headers={"Nats-Msg-Id": str(env.id)})


async def intakes_letter(broker: Broker, env: Envelope, seq: int) -> DeadLetter:
    """intake writes, on its own dead-letter subject, a letter holding `env` and naming the stream's message `seq`."""
    data = env.payload()
    published = await broker.intake.publish(
        f"dlq.{INTAKE_REPORTER_VIEW.name}",
        encode_event(env),
        headers={
            "Nats-Msg-Id": f"dlq-{INTAKE_REPORTER_VIEW.name}-{env.id}",
            "Simpul-Error": "RuntimeError: failed",
            "Simpul-Durable": INTAKE_REPORTER_VIEW.name,
            "Simpul-Service": "intake",
            "Simpul-Subject": data.subject(),
            "Simpul-Stream": STREAM,
            "Simpul-Stream-Seq": str(seq),
            "Simpul-Deliveries": "5",
        },
    )
    letter = await get_dead_letter(broker.ops.js, published)
    assert letter is not None and letter.subject == data.subject()
    return letter


async def test_a_disposition_forged_with_intakes_credentials_is_dead_lettered_not_believed(broker: Broker) -> None:
    tid = new_tid()
    counted = await forged_count(broker.client)
    await forge_as_intake(broker, tid, source="routing")
    await forge_as_intake(broker, tid, source="intake")

    letters = await eventually(lambda: letters_of(broker.ops, AGENCY_INBOX.name, 2))
    assert [letter.subject for letter in letters] == [INTAKES_SUBJECT, INTAKES_SUBJECT]
    for letter in letters:
        assert letter.error == (
            f"forged: a complaint.dispositioned event arrived on {INTAKES_SUBJECT!r}, "
            f"not on 'simpul.complaint.dispositioned.{NODE}'"
        ), letter.error
        assert letter.deliveries == 1, "dead-lettered at once, never handed to a handler"
    assert await broker.case(tid) is None, "agency opened no case for the forged disposition"

    # A genuine event from intake on the same subject goes through: agency's inbox still reads intake's events.
    reply = ReporterReplied(tracking_id=tid, message_id="m-1", content="Halo", sent_at=datetime.now(UTC))
    env = new_event(reply, source="intake")
    await broker.intake.publish(INTAKES_SUBJECT, encode_event(env), headers={"Nats-Msg-Id": str(env.id)})

    async def forged_counted() -> bool:
        return await forged_count(broker.client) == counted + 2

    await eventually(forged_counted)
    assert await letters_of(broker.ops, AGENCY_INBOX.name, 3) is None, "the genuine reply was not dead-lettered"


async def test_replaying_a_forged_letter_is_refused(broker: Broker) -> None:
    tid = new_tid()
    forged_seq = await forge_as_intake(broker, tid, source="routing")
    (dead,) = await eventually(lambda: letters_of(broker.ops, AGENCY_INBOX.name, 1))

    # intake widens its own durable's filter to every subject (its grants let it), then writes on its own dead-letter
    # subject letters that look like events routing published, pointing at a message on the stream.
    await broker.intake.js.add_consumer(
        STREAM,
        ConsumerConfig(
            durable_name=INTAKE_REPORTER_VIEW.name, filter_subject="simpul.>", ack_policy=AckPolicy.EXPLICIT
        ),
    )
    disposed = await intakes_letter(broker, new_event(disposition(tid), source="routing"), forged_seq)
    status = ComplaintStatusChanged(
        tracking_id=tid,
        status=Status.completed,
        agency_code=NODE,
        actor="system",
        case_version=9,
        changed_at=datetime.now(UTC),
    )
    closed = await intakes_letter(broker, new_event(status, source="routing"), forged_seq)

    before = (await broker.ops.js.stream_info(STREAM)).state.last_seq
    with pytest.raises(ReplayRefused, match="forged: a complaint.dispositioned event arrived on 'simpul.reporter"):
        await replay(broker.ops.js, dead)
    # The widened filter does not count: the topology routes no disposition to intake.
    with pytest.raises(ReplayRefused, match=f"is not a subject that '{INTAKE_REPORTER_VIEW.name}' reads"):
        await replay(broker.ops.js, disposed)
    # A status change is routed to intake, but the letter is not what the broker took at the sequence it names.
    with pytest.raises(ReplayRefused, match=f"it is not the message {STREAM} #{forged_seq} holds"):
        await replay(broker.ops.js, closed)
    gone = DeadLetter(**{**closed.__dict__, "stream_seq": before + 100})
    with pytest.raises(ReplayRefused, match="is no longer on the stream"):
        await replay(broker.ops.js, gone)
    # The operator's override for a letter whose original aged out never lets a forged one through either.
    with pytest.raises(ReplayRefused, match="forged: a complaint.dispositioned event arrived on 'simpul.reporter"):
        await replay(broker.ops.js, dead, original_aged_out=True)
    assert (await broker.ops.js.stream_info(STREAM)).state.last_seq == before, "nothing was republished"
    assert await broker.case(tid) is None
    # With the original gone, the override trusts what is left to check: an event routing may publish, on its
    # subject, for a durable that reads it. That is why it takes one letter's id, on an operator's word.
    await replay(broker.ops.js, gone, original_aged_out=True)
    assert (await broker.ops.js.stream_info(STREAM)).state.last_seq == before + 1
