"""An SMS into intake's SMS door comes back as notify's confirmation SMS, with the tracking id and the receipt, through
the real broker and the SMS gateway fake (the gateway is the one external peer here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.intake_svc.sms_gateway import NUMBER, sms_door
from tests.notify_svc.conftest import SmsGateway, gateway_settings, start_notify
from tests.support.apps import eventually
from tests.support.databases import TestDatabase, fresh_database

SEGMENTS_OF_TWO = 306


async def test_the_sms_reporter_gets_the_tracking_id_and_receipt_by_sms(
    database: TestDatabase, backend: str, natsd: Any, tmp_path: Path, sms_gateway: SmsGateway
) -> None:
    async with (
        fresh_database(backend, tmp_path, "intake") as intake_db,
        sms_door(intake_db, natsd, tmp_path) as gateway,
        start_notify(database, natsd, tmp_path, **gateway_settings(sms_gateway)),
    ):
        r = await gateway.sms("JALAN Jalan di depan SDN 3 berlubang")
        assert r.status_code == 200, r.text
        tid = r.json()["tracking_id"]
        assert "receipt" not in r.json()

        async def confirmed() -> list[dict[str, Any]]:
            return sms_gateway.texts_for(tid)

        (sent,) = await eventually(confirmed)
        assert sent["to"] == NUMBER
        text = sent["text"]
        assert text.startswith(f"Simpul: laporan Anda diterima, nomor {tid}. Resi: ")
        receipt = text.split("Resi: ", 1)[1].split(" ", 1)[0]
        # The receipt it carries opens the case.
        view = await gateway.intake.client.get(f"/api/v1/complaints/{tid}", headers={"X-Receipt": receipt})
        assert view.status_code == 200 and view.json()["category"] == "infrastruktur.jalan"
        assert len(text) <= SEGMENTS_OF_TWO and text.isascii(), "two GSM segments at most"
