"""notify_svc running in-process against the per-test nats-server and database, with a real SMTP server (aiosmtpd) and
a real HTTP SMS gateway receiver (uvicorn on a loopback port) when asked, and a movable clock when a test needs one."""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from notify_svc.app import create_app
from notify_svc.settings import NotifySettings
from services.ports import free_port
from shared.bus import PRIVATE_STREAM, STREAM, Bus
from shared.clock import Clock
from shared.domain import Channel, Classification, ClockKind, ClockState, EscalationTarget, Status
from shared.events import Envelope, EventData, encode_event, new_event
from shared.events.contracts import (
    CaseSnapshot,
    ClockView,
    ComplaintEscalated,
    ComplaintStatusChanged,
    ComplaintSubmitted,
    ContactDetails,
    ContactRegistered,
    FollowupPosted,
    LiaisonContact,
    NodeUpserted,
    SlaClocksChanged,
    SlaWarning,
)
from shared.runtime import Runtime
from tests.support.apps import (
    ADMIN_KEY,
    CONTACT,
    auth,
    eventually,
    publish,
    running_service,
    service_settings,
    stream_events,
    test_bus,
)
from tests.support.databases import TestDatabase

# Fast loops for tests: the sender polls often and retries quickly; the digest only where a test asks for it.
FAST = {
    "sender_poll_interval": 0.05,
    "retry_base_seconds": 0.05,
    "retry_max_seconds": 0.2,
    "digest_hour": None,
    "digest_poll_seconds": 0.05,
}
GATEWAY_AUTH = "Bearer gw-test-secret"


def new_tid() -> str:
    return f"LPR-{uuid.uuid4().hex[:12].upper()}"


class SmtpInbox:
    """An aiosmtpd handler that keeps what it accepts, and refuses the first `refuse_first` messages with 451."""

    def __init__(self, refuse_first: int = 0, refusal: str = "451 try later"):
        self.refuse_first = refuse_first
        self.refusal = refusal
        self.refused = 0
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refused < self.refuse_first:
            self.refused += 1
            return self.refusal
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def for_tid(self, tid: str) -> list[EmailMessage]:
        return [m for _, m in self.received if tid in body_of(m)]


@dataclass
class SmtpServer:
    inbox: SmtpInbox
    port: int


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    inbox = SmtpInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(inbox=inbox, port=port)
    finally:
        controller.stop()


@dataclass
class GatewayCall:
    headers: dict[str, str]
    body: dict[str, Any]
    answered: int


class SmsGateway:
    """An HTTP SMS gateway on a loopback port. It answers each request from `script` (a status code, or 0: wait
    `hang_seconds`, longer than the client's timeout, then 200), then 200; like a real gateway, it sends one SMS per
    Idempotency-Key."""

    def __init__(self) -> None:
        self.url = ""
        self.script: list[int] = []
        self.hang_seconds = 1.0
        self.calls: list[GatewayCall] = []
        self.delivered: dict[str, dict[str, Any]] = {}
        self.refusal: Callable[[str], str] = lambda to: f"refused {to}"
        """The error text of a refusal, from the number the request was for."""

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.json()
        status = self.script.pop(0) if self.script else 200
        if status == 0:
            await asyncio.sleep(self.hang_seconds)
            status = 200
        self.calls.append(GatewayCall(dict(request.headers), body, status))
        if status >= 300:
            return JSONResponse({"error": self.refusal(str(body.get("to")))}, status_code=status)
        key = request.headers.get("idempotency-key", "")
        self.delivered.setdefault(key, body)
        return JSONResponse({"id": f"gw-{key[:8]}", "status": "queued"}, status_code=202)

    def texts_for(self, tid: str) -> list[dict[str, Any]]:
        return [b for b in self.delivered.values() if tid in b.get("text", "")]


@pytest.fixture
async def sms_gateway() -> AsyncIterator[SmsGateway]:
    gateway = SmsGateway()
    port = free_port()
    app = Starlette(routes=[Route("/v1/messages", gateway.handle, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    try:
        await eventually(started)
        gateway.url = f"http://127.0.0.1:{port}/v1/messages"
        yield gateway
    finally:
        server.should_exit = True
        await task


def gateway_settings(gateway: SmsGateway) -> dict[str, Any]:
    return {"sms_gateway_url": gateway.url, "sms_gateway_auth_header": f"Authorization: {GATEWAY_AUTH}"}


def body_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


@dataclass
class Notify:
    app: FastAPI
    client: httpx.AsyncClient
    bus: Bus
    settings: NotifySettings
    database: TestDatabase
    admin: dict[str, str] = field(default_factory=lambda: auth(ADMIN_KEY))
    stored: dict[str, int] = field(default_factory=dict)
    """The last stream sequence this helper published to, by stream."""

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def mail_dir(self) -> Path:
        return self.settings.resolved_mail_dir()

    async def contact(
        self,
        tid: str,
        *,
        email_address: str | None = "siti.aminah@example.test",
        name: str | None = "Siti Aminah",
        phone: str | None = "+62 812 0000 1111",
        language: str = "id",
        is_anonymous: bool = False,
        receipt: str | None = None,
    ) -> None:
        await self.publish(
            ContactRegistered(
                tracking_id=tid,
                details_sealed=ContactDetails(name=name, email=email_address, phone=phone, receipt=receipt).seal(
                    CONTACT
                ),
                language=language,
                is_anonymous=is_anonymous,
            ),
            source="intake",
        )

    def status_event(
        self, tid: str, status: Status, version: int, previous: Status | None = None, reason: str | None = None
    ) -> ComplaintStatusChanged:
        return ComplaintStatusChanged(
            tracking_id=tid,
            status=status,
            previous_status=previous,
            agency_code="LAPAS-SBY",
            actor="system",
            reason=reason,
            case_version=version,
            changed_at=datetime.now(UTC),
        )

    async def status(self, tid: str, status: Status, version: int, **kw: Any) -> None:
        await self.publish(self.status_event(tid, status, version, **kw), source="routing")

    async def followup(
        self, tid: str, content: str, *, agency_name: str | None = "Lapas Kelas I Surabaya", is_final: bool = False
    ) -> None:
        await self.publish(
            FollowupPosted(
                tracking_id=tid,
                followup_id=str(uuid.uuid4()),
                agency_code="LAPAS-SBY",
                agency_name=agency_name,
                content=content,
                is_final=is_final,
                actor="agency:LAPAS-SBY",
                posted_at=datetime.now(UTC),
            ),
            source="agency",
        )

    async def submitted(self, tid: str, region_code: str | None) -> None:
        snapshot = CaseSnapshot(
            title="Pungutan liar",
            content="Petugas meminta uang.",
            classification=Classification.pengaduan,
            region_code=region_code,
            channel=Channel.web,
            is_anonymous=False,
            is_confidential=False,
            submitted_at=datetime.now(UTC),
        )
        await self.publish(ComplaintSubmitted(tracking_id=tid, case=snapshot), source="intake")

    async def clocks(self, tid: str, version: int, *clocks: ClockView) -> None:
        event = SlaClocksChanged(
            tracking_id=tid,
            clocks=list(clocks),
            escalation_level=0,
            clocks_version=version,
            changed_at=datetime.now(UTC),
        )
        await self.publish(event, source="routing")

    async def warning(self, tid: str, clock: ClockKind, due_at: datetime, agency_code: str | None = None) -> None:
        event = SlaWarning(
            tracking_id=tid,
            clock_id="7",
            clock=clock,
            agency_code=agency_code,
            started_at=due_at - timedelta(days=14),
            due_at=due_at,
            warned_at=datetime.now(UTC),
        )
        await self.publish(event, source="routing")

    def escalation_event(
        self, tid: str, level: int, agency_code: str, target_agency_code: str | None
    ) -> ComplaintEscalated:
        return ComplaintEscalated(
            tracking_id=tid,
            clock_id="9",
            clock=ClockKind.resolution,
            level=level,
            target=list(EscalationTarget)[level - 1],
            agency_code=agency_code,
            target_agency_code=target_agency_code,
            due_at=datetime(2026, 3, 6, 16, 59, 59, 999999, tzinfo=UTC),
            escalated_at=datetime.now(UTC),
        )

    async def publish(self, data: EventData, source: str) -> None:
        self._sent(data.subject(), await publish(self.bus, data, source=source))

    def _sent(self, subject: str, seq: int) -> None:
        stream = PRIVATE_STREAM if subject.startswith("private.") else STREAM
        self.stored[stream] = max(seq, self.stored.get(stream, 0))

    async def wait_drained(self, durable: str = "notify-messages") -> None:
        """Wait until the durable has acked everything this helper published to its stream.

        The consumer's pending count alone is not enough: the server counts a newly stored message a moment after
        acknowledging the publish, so the last message must also have been delivered."""
        published = self.stored.get(STREAM, 0)

        async def drained() -> bool:
            info = await self.bus.js.consumer_info(STREAM, durable)
            delivered = info.delivered.stream_seq or 0
            return delivered >= published and info.num_pending == 0 and info.num_ack_pending == 0

        await eventually(drained)

    async def recipient(self, **body: Any) -> dict[str, Any]:
        r = await self.client.post("/api/v1/notify/recipients", json=body, headers=self.admin)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def node_event(self, code: str, *officers: dict[str, Any], timezone: str = "Asia/Jakarta") -> NodeUpserted:
        return NodeUpserted(
            code=code,
            name=f"Kantor {code}",
            kind="upt",
            path=[code],
            timezone=timezone,
            liaison_officers=[LiaisonContact(**o) for o in officers],
        )

    async def node(
        self, code: str, *officers: dict[str, Any], timezone: str = "Asia/Jakarta"
    ) -> dict[str, dict[str, Any]]:
        """Publish the directory's node with these liaison officers, as routing does; once notify has applied it, the
        node's officers as notify lists them, by address."""
        await self.publish(self.node_event(code, *officers, timezone=timezone), source="routing")
        await self.wait_drained()
        return await self.liaisons(code)

    async def liaisons(self, code: str) -> dict[str, dict[str, Any]]:
        params: dict[str, str | int] = {"node_code": code, "limit": 200}
        r = await self.client.get("/api/v1/notify/recipients", params=params, headers=self.admin)
        assert r.status_code == 200, r.text
        return {i["email"]: i for i in r.json()["items"]}

    async def publish_twice(self, data: EventData) -> Envelope:
        """The same envelope under two Nats-Msg-Ids: JetStream keeps both, so the consumer sees it twice."""
        env = new_event(data, source="routing")
        await self.redeliver(env, "first")
        await self.redeliver(env, "again")
        return env

    async def redeliver(self, env: Envelope, tag: str) -> None:
        """Publish this very envelope (same event id) under a new Nats-Msg-Id, as a replay or a redelivery would."""
        subject = f"simpul.{env.type}"
        seq = await self.bus.publish(subject, encode_event(env), headers={"Nats-Msg-Id": f"{tag}-{env.id}"})
        self._sent(subject, seq)

    async def deliveries(self, tid: str | None = None, **params: Any) -> list[dict[str, Any]]:
        if tid is not None:
            params["tracking_id"] = tid
        r = await self.client.get("/api/v1/notify/deliveries", params=params, headers=self.admin)
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    async def wait_deliveries(
        self,
        tid: str | None,
        n: int,
        *,
        template: str | None = None,
        recipient_kind: str | None = None,
        **expected: Any,
    ) -> list[dict[str, Any]]:
        """Wait until `tid` has exactly `n` deliveries (of `template`, for `recipient_kind`, if given), each matching
        `expected`."""

        async def probe() -> list[dict[str, Any]] | None:
            items = [
                i
                for i in await self.deliveries(tid, limit=200)
                if template in (None, i["template"]) and recipient_kind in (None, i["recipient_kind"])
            ]
            ok = len(items) == n and all(all(i.get(k) == v for k, v in expected.items()) for i in items)
            return items if ok else None

        return await eventually(probe)

    def eml_files(self) -> list[Path]:
        return sorted(self.mail_dir.glob("*.eml")) if self.mail_dir.exists() else []

    def mails_for(self, tid: str) -> list[EmailMessage]:
        found = []
        for path in self.eml_files():
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            if tid in body_of(msg):
                found.append(msg)
        return found

    async def wait_mails(self, tid: str, n: int) -> list[EmailMessage]:
        async def probe() -> list[EmailMessage] | None:
            found = self.mails_for(tid)
            return found if len(found) == n else None

        return await eventually(probe)


@asynccontextmanager
async def start_notify(
    database: TestDatabase, natsd: Any, tmp_path: Path, *, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[Notify]:
    settings = service_settings(NotifySettings, database, natsd, tmp_path, **{**FAST, **overrides})
    app_kwargs = {"clock": clock} if clock is not None else {}
    async with (
        running_service("notify_svc", create_app, settings, **app_kwargs) as (app, client),
        test_bus(natsd) as bus,
    ):
        yield Notify(app=app, client=client, bus=bus, settings=settings, database=database)


@pytest.fixture
async def notify(database: TestDatabase, natsd: Any, tmp_path: Path) -> AsyncIterator[Notify]:
    """notify_svc without SMTP: messages become .eml files in <data_dir>/mail."""
    async with start_notify(database, natsd, tmp_path) as svc:
        yield svc


@pytest.fixture
async def notify_smtp(
    database: TestDatabase, natsd: Any, tmp_path: Path, smtp_server: SmtpServer
) -> AsyncIterator[Notify]:
    async with start_notify(database, natsd, tmp_path, smtp_host="127.0.0.1", smtp_port=smtp_server.port) as svc:
        yield svc


def running_clock(name: ClockKind, agency_code: str | None, due_at: datetime, **extra: Any) -> ClockView:
    values: dict[str, Any] = {
        "name": name,
        "agency_code": agency_code,
        "working_days": 5,
        "started_at": due_at - timedelta(days=7),
        "due_at": due_at,
        "paused": False,
        "state": ClockState.breached if due_at < datetime.now(UTC) else ClockState.running,
    }
    return ClockView(**{**values, **extra})


async def wait_stream_events(bus: Bus, subject: str, tid: str, n: int) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        found = [e for e in await stream_events(bus, subject) if e["data"].get("tracking_id") == tid]
        return found if len(found) == n else None

    return await eventually(probe)
