"""notify_svc running in-process against the per-test nats-server and database, with a real SMTP server when asked."""

from __future__ import annotations

import email
import email.policy
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from notify_svc.app import create_app
from notify_svc.settings import NotifySettings
from services.ports import free_port
from shared.bus import Bus
from shared.domain import Status
from shared.events import EventData, encode_event, new_event
from shared.events.contracts import ComplaintStatusChanged, ContactRegistered, FollowupPosted
from shared.runtime import Runtime
from tests.support.apps import (
    ADMIN_KEY,
    auth,
    eventually,
    publish,
    running_service,
    service_settings,
    stream_events,
    test_bus,
)
from tests.support.databases import TestDatabase

# Fast loops for tests: the sender polls often and retries quickly.
FAST = {"sender_poll_interval": 0.05, "retry_base_seconds": 0.05, "retry_max_seconds": 0.2}


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


def body_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


@dataclass
class Notify:
    app: FastAPI
    client: httpx.AsyncClient
    bus: Bus
    settings: NotifySettings
    database: TestDatabase
    admin: dict[str, str] = field(default_factory=lambda: auth(ADMIN_KEY))

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
    ) -> None:
        await publish(
            self.bus,
            ContactRegistered(
                tracking_id=tid,
                name=name,
                email=email_address,
                phone=phone,
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
        await publish(self.bus, self.status_event(tid, status, version, **kw), source="routing")

    async def followup(
        self, tid: str, content: str, *, agency_name: str | None = "Lapas Kelas I Surabaya", is_final: bool = False
    ) -> None:
        await publish(
            self.bus,
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

    async def publish_twice(self, data: EventData) -> None:
        """The same envelope under two Nats-Msg-Ids: JetStream keeps both, so the consumer sees it twice."""
        env = new_event(data, source="routing")
        raw = encode_event(env)
        await self.bus.publish(data.subject(), raw, headers={"Nats-Msg-Id": str(env.id)})
        await self.bus.publish(data.subject(), raw, headers={"Nats-Msg-Id": f"again-{env.id}"})

    async def deliveries(self, tid: str | None = None, **params: Any) -> list[dict[str, Any]]:
        if tid is not None:
            params["tracking_id"] = tid
        r = await self.client.get("/api/v1/notify/deliveries", params=params, headers=self.admin)
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    async def wait_deliveries(self, tid: str, n: int, **expected: Any) -> list[dict[str, Any]]:
        """Wait until `tid` has exactly `n` deliveries, each matching `expected`."""

        async def probe() -> list[dict[str, Any]] | None:
            items = await self.deliveries(tid)
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
async def start_notify(database: TestDatabase, natsd: Any, tmp_path: Path, **overrides: Any) -> AsyncIterator[Notify]:
    settings = service_settings(NotifySettings, database, natsd, tmp_path, **{**FAST, **overrides})
    async with running_service("notify_svc", create_app, settings) as (app, client), test_bus(natsd) as bus:
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


async def wait_stream_events(bus: Bus, subject: str, tid: str, n: int) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        found = [e for e in await stream_events(bus, subject) if e["data"].get("tracking_id") == tid]
        return found if len(found) == n else None

    return await eventually(probe)
