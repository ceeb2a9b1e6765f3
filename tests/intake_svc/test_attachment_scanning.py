"""Uploads scanned by a real clamd (Debian's clamav-daemon, with a database that knows only the EICAR test file): an
infected file is kept as a record, marked, and never served; a scanner that is required or configured but down refuses
uploads and keeps nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intake_svc.models import ATTACHMENTS
from tests.intake_svc.conftest import limited_intake
from tests.intake_svc.test_attachments import fetch, leftovers, objects, upload
from tests.support.clamd import RunningClamd
from tests.support.databases import TestDatabase
from tests.support.files import EICAR, pdf


async def test_a_clean_file_is_served_and_an_infected_one_is_marked_and_never_served(
    database: TestDatabase, natsd: Any, tmp_path: Path, clamd_daemon: RunningClamd
) -> None:
    async with limited_intake(database, natsd, tmp_path, clamd_url=clamd_daemon.unix_url) as intake:
        receipt = await intake.submit()
        clean = await upload(intake, receipt, pdf())
        assert clean.status_code == 201 and clean.json()["scan_status"] == "clean", clean.text
        assert (await fetch(intake, receipt, clean.json()["id"])).content == pdf()

        # The test's signature database knows the EICAR file by its hash: the whole file, as it is.
        infected = await upload(intake, receipt, EICAR, name="catatan.txt", mime="text/plain")
        assert infected.status_code == 201, infected.text
        assert infected.json()["scan_status"] == "infected"
        refused = await fetch(intake, receipt, infected.json()["id"])
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "attachment_infected"
        view = await intake.view(receipt)
        assert {a["id"]: a["scan_status"] for a in view["attachments"]} == {
            clean.json()["id"]: "clean",
            infected.json()["id"]: "infected",
        }
        assert await objects(intake) == [clean.json()["id"]], "an infected file's bytes are never stored"


async def test_eicar_alone_is_found_over_tcp(
    database: TestDatabase, natsd: Any, tmp_path: Path, clamd_daemon: RunningClamd
) -> None:
    async with limited_intake(database, natsd, tmp_path, clamd_url=clamd_daemon.tcp_url) as intake:
        receipt = await intake.submit()
        r = await upload(intake, receipt, EICAR, name="eicar.com", mime="application/pdf")
        # EICAR is printable ASCII: it sniffs as text, and the scanner finds it.
        assert r.status_code == 201 and r.json()["scan_status"] == "infected", r.text


async def test_a_scanner_that_is_down_or_missing_refuses_uploads_and_keeps_nothing(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    down = f"unix://{tmp_path / 'no-clamd.ctl'}"
    async with limited_intake(database, natsd, tmp_path / "a", clamd_url=down) as intake:
        receipt = await intake.submit()
        r = await upload(intake, receipt, pdf())
        assert r.status_code == 503 and r.json()["error"]["code"] == "scanner_unavailable", r.text
        assert await objects(intake) == [] and await intake.count(ATTACHMENTS) == 0 and leftovers(intake) == []
    async with limited_intake(database, natsd, tmp_path / "b", scan_required=True) as intake:
        receipt = await intake.submit()
        r = await upload(intake, receipt, pdf())
        assert r.status_code == 503 and r.json()["error"]["code"] == "scanner_unavailable", r.text
        assert await intake.count(ATTACHMENTS) == 0
