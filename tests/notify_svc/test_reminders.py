"""The reminder before the reporter-response clock runs out (its 80% sla.warning): the case completes when answered, or
is taken as withdrawn when postponed; the date is shown in the reporter's timezone (the case's region)."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.domain import ClockKind, Status
from tests.notify_svc.conftest import Notify, body_of, new_tid

DUE = datetime(2026, 3, 20, 15, 59, 59, 999999, tzinfo=UTC)  # the end of Friday 20 March 2026, WITA


async def test_reminders_before_auto_completion_and_withdrawal(notify: Notify) -> None:
    answered, postponed, unknown = new_tid(), new_tid(), new_tid()
    await notify.submitted(answered, "7371")  # Makassar: WITA
    for tid in (answered, postponed, unknown):
        await notify.contact(tid)
    await notify.status(answered, Status.answered, 4, previous=Status.in_progress)
    await notify.status(postponed, Status.postponed, 1, previous=Status.submitted, reason="Lokasi?")
    await notify.wait_drained()
    await notify.warning(answered, ClockKind.reporter_response, DUE, agency_code="LAPAS-SBY")
    await notify.warning(answered, ClockKind.resolution, DUE, agency_code="LAPAS-SBY")  # not the reporter's clock
    await notify.warning(postponed, ClockKind.reporter_response, DUE)
    await notify.warning(unknown, ClockKind.reporter_response, DUE)  # no status seen: the hub's clock, postponed

    [to_answered] = await notify.wait_deliveries(answered, 1, template="reminder", status="sent")
    assert to_answered["event_type"] == "sla.warning"
    [mail] = [m for m in notify.mails_for(answered) if "Pengingat" in m["Subject"]]
    assert mail["Subject"] == f"[Simpul] Pengingat: laporan {answered} menunggu tanggapan Anda"
    assert "hingga 20 Maret 2026, 23.59 WITA, laporan akan dinyatakan selesai." in body_of(mail)
    for tid in (postponed, unknown):
        await notify.wait_deliveries(tid, 1, template="reminder", status="sent")
        [mail] = [m for m in notify.mails_for(tid) if "Pengingat" in m["Subject"]]
        assert "hingga 20 Maret 2026, 22.59 WIB, laporan akan dianggap dicabut." in body_of(mail)
    await notify.wait_drained()
    assert len([d for d in await notify.deliveries(answered) if d["template"] == "reminder"]) == 1
