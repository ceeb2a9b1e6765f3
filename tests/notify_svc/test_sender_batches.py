"""The sender works in batches: a batch is claimed in one transaction and its outcomes written in one more. One
notification that cannot be sent does not hold back the others of its batch, and two senders on one database send each
notification of a batch once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from notify_svc.app import create_app
from notify_svc.models import Contact, Notification, RecipientKind
from notify_svc.notifications.service import Addressee, Notice, enqueue
from notify_svc.notifications.triggers import STATUS_CHANGED
from notify_svc.sending.mail import Mail
from notify_svc.sending.worker import Sender
from notify_svc.settings import NotifySettings
from shared.crypto import Sealer
from shared.runtime import Runtime
from tests.notify_svc.conftest import FAST, new_tid, start_notify
from tests.notify_svc.test_templates import sample
from tests.support.apps import eventually, running_service, service_settings, test_bus


class CountingTransport:
    """Takes its time over each message (so two senders overlap) and counts what it is given, by notification."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    async def deliver(self, mail: Mail) -> None:
        await asyncio.sleep(0.005)
        self.sent[mail.notification_id] += 1


async def queue_for_reporters(runtime: Runtime, sealer: Sealer, count: int, *, broken: int | None = None) -> list[str]:
    """`count` reporters with an email, and a status message for each, made due in one transaction (so one batch
    takes them); the one at `broken` holds a sealed context no key opens. Their tracking ids."""
    now = datetime.now(UTC)
    tids = [new_tid() for _ in range(count)]
    async with runtime.db.session() as session, session.begin():
        for i, tid in enumerate(tids):
            session.add(
                Contact(
                    tracking_id=tid,
                    name_sealed=sealer.seal(f"Pelapor {i}"),
                    email_sealed=sealer.seal(f"pelapor{i}@example.test"),
                    phone_sealed=None,
                    language="id",
                    is_anonymous=False,
                    registered_at=now,
                )
            )
        await session.flush()
        for i, tid in enumerate(tids):
            notice = Notice(
                event_id=str(uuid.uuid4()),
                event_type="complaint.status_changed",
                template=STATUS_CHANGED,
                tracking_id=tid,
                context={**sample(STATUS_CHANGED), "tracking_id": tid},
                context_sealed="not-sealed-by-any-key" if i == broken else None,
            )
            await enqueue(session, notice, Addressee(RecipientKind.reporter), now=now)
    return tids


async def notifications(runtime: Runtime, tids: list[str]) -> dict[str, Notification]:
    async with runtime.db.session() as session:
        rows = (await session.execute(select(Notification).where(Notification.tracking_id.in_(tids)))).scalars()
        return {n.tracking_id or "": n for n in rows}


async def test_one_notification_that_cannot_be_sent_holds_back_none_of_its_batch(
    database: Any, natsd: Any, tmp_path: Path
) -> None:
    async with start_notify(database, natsd, tmp_path, max_attempts=3) as notify:
        sealer = Sealer(notify.settings.encryption_key_list())
        tids = await queue_for_reporters(notify.runtime, sealer, 6, broken=2)
        bad = tids[2]

        async def settled() -> dict[str, Notification] | None:
            found = await notifications(notify.runtime, tids)
            return found if all(n.status != "pending" for n in found.values()) else None

        found = await eventually(settled)
        assert {tid: n.status for tid, n in found.items()} == {t: "failed" if t == bad else "sent" for t in tids}
        assert found[bad].attempts == 3 and found[bad].reason == "max_attempts"
        error = found[bad].last_error
        assert error and "not-sealed-by-any-key" not in error
        assert all(found[t].attempts == 1 for t in tids if t != bad)
        assert sorted(p.stem for p in notify.eml_files()) == sorted(found[t].id for t in tids if t != bad)


async def test_two_senders_send_each_notification_of_a_batch_once(database: Any, natsd: Any, tmp_path: Path) -> None:
    settings = service_settings(NotifySettings, database, natsd, tmp_path, **{**FAST, "sender_batch": 8})
    transport = CountingTransport()
    async with (
        running_service("notify_svc", create_app, settings, transport=transport) as (app, _),
        test_bus(natsd),
    ):
        runtime: Runtime = app.state.runtime
        sealer = Sealer(settings.encryption_key_list())
        other = Sender(settings, sealer, transport=transport)
        rival = asyncio.create_task(other.run(runtime))
        try:
            tids = await queue_for_reporters(runtime, sealer, 30)

            async def all_sent() -> dict[str, Notification] | None:
                found = await notifications(runtime, tids)
                return found if all(n.status == "sent" for n in found.values()) else None

            found = await eventually(all_sent)
        finally:
            rival.cancel()
            await asyncio.gather(rival, return_exceptions=True)
        assert transport.sent == Counter({n.id: 1 for n in found.values()}), "each delivered once"
        assert all(n.attempts == 1 for n in found.values())
