"""The reporter's files through intake's API, against the real nats-server (Object Store) and database: what is
accepted, what is refused and why, what is kept, and what is served."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
from nats.js.api import ObjectMeta

from intake_svc.models import ATTACHMENTS
from shared.events.topology import FILES_INTAKE
from shared.files.sealed import HEADER
from tests.intake_svc.conftest import Intake, limited_intake
from tests.support.databases import TestDatabase
from tests.support.files import GPS_IFD, exif_of, image_size, pdf, photo, plain_zip


def upload_path(receipt: dict[str, Any]) -> str:
    return f"/api/v1/complaints/{receipt['tracking_id']}/attachments"


async def upload(
    intake: Intake, receipt: dict[str, Any], data: bytes, name: str = "bukti.bin", mime: str = "application/pdf"
) -> httpx.Response:
    return await intake.client.post(
        upload_path(receipt), files={"file": (name, data, mime)}, headers={"X-Receipt": receipt["receipt"]}
    )


async def fetch(intake: Intake, receipt: dict[str, Any], attachment_id: str) -> httpx.Response:
    return await intake.client.get(f"{upload_path(receipt)}/{attachment_id}", headers={"X-Receipt": receipt["receipt"]})


async def objects(intake: Intake) -> list[str]:
    obs = await intake.bus.js.object_store(FILES_INTAKE.name)
    try:
        return sorted(str(i.name) for i in await obs.list(ignore_deletes=True))
    except Exception:
        return []


def leftovers(intake: Intake) -> list[Path]:
    return [p for p in (intake.settings.data_dir / "uploads").rglob("*") if p.is_file()]


async def test_a_photo_is_stored_without_its_gps_upright_sealed_and_served_as_a_download(intake: Intake) -> None:
    receipt = await intake.submit()
    original = photo("JPEG", (64, 32), orientation=6)
    r = await upload(intake, receipt, original, name="../../foto jalan.png", mime="image/png")
    assert r.status_code == 201, r.text
    meta = r.json()
    assert meta["media_type"] == "image/jpeg" and meta["filename"] == "foto jalan.jpg"
    assert meta["scan_status"] == "unscanned" and meta["uploaded_by"] == "reporter"

    served = await fetch(intake, receipt, meta["id"])
    assert served.status_code == 200
    body = served.content
    assert hashlib.sha256(body).hexdigest() == meta["sha256"] and len(body) == meta["size"]
    assert not exif_of(body).get_ifd(GPS_IFD) and b"KameraPonsel" not in body
    assert image_size(body) == (32, 64)
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"].startswith('attachment; filename="foto jalan.jpg"')

    # In the bucket the file is sealed: neither the pixels nor the name's content are readable there.
    obs = await intake.bus.js.object_store(FILES_INTAKE.name)
    stored = (await obs.get(meta["id"])).data
    assert stored.startswith(HEADER) and body[:64] not in stored

    view = await intake.view(receipt)
    assert [a["id"] for a in view["attachments"]] == [meta["id"]]
    assert view["attachments"][0]["sha256"] == meta["sha256"]
    assert leftovers(intake) == []


async def test_the_declared_type_and_name_are_never_trusted(intake: Intake) -> None:
    receipt = await intake.submit()
    r = await upload(intake, receipt, pdf(), name="foto.jpg", mime="image/jpeg")
    assert r.status_code == 201, r.text
    assert r.json()["media_type"] == "application/pdf" and r.json()["filename"] == "foto.pdf"
    served = await fetch(intake, receipt, r.json()["id"])
    assert served.content == pdf() and served.headers["content-type"] == "application/pdf"


async def test_refusals_answer_clearly_and_leave_nothing_behind(intake: Intake) -> None:
    receipt = await intake.submit()
    path, headers = upload_path(receipt), {"X-Receipt": receipt["receipt"]}

    r = await upload(intake, receipt, plain_zip(), name="bukti.pdf")
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type", r.text
    r = await upload(intake, receipt, b"<html><script>alert(1)</script>\x00</html>", name="a.txt", mime="text/plain")
    assert r.status_code == 415, r.text
    r = await upload(intake, receipt, b"", name="kosong.pdf")
    assert r.status_code == 422 and r.json()["error"]["code"] == "empty_file", r.text
    r = await intake.client.post(path, files={"dokumen": ("a.pdf", pdf(), "application/pdf")}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["loc"] == ["body", "file"], r.text
    broken = b'--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n' + pdf()
    r = await intake.client.post(
        path, content=broken, headers={**headers, "Content-Type": "multipart/form-data; boundary=XYZ"}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_multipart", r.text
    r = await intake.client.post(path, json={"file": "x"}, headers=headers)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_multipart", r.text
    two = {"file": ("a.pdf", pdf(), "application/pdf")}
    r = await intake.client.post(path, files=[("file", two["file"]), ("file", two["file"])], headers=headers)
    assert r.status_code == 400, r.text

    r = await intake.client.post(path, files=two, headers={"X-Receipt": "AAAA-BBBB"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    other = await intake.submit()
    r = await intake.client.post(upload_path(other), files=two, headers=headers)
    assert r.status_code == 404

    assert await objects(intake) == []
    assert await intake.count(ATTACHMENTS) == 0
    assert leftovers(intake) == []


async def test_the_limits_per_file_per_uploader_and_per_case(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    async with limited_intake(
        database, natsd, tmp_path, attachment_max_bytes=40_000, attachment_max_files=2, attachment_max_case_bytes=60_000
    ) as intake:
        receipt = await intake.submit()
        big = pdf() + b"%" + b"x" * 40_000
        r = await upload(intake, receipt, big)
        assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large", r.text

        half = pdf() + b"%" + b"y" * 25_000
        assert (await upload(intake, receipt, half)).status_code == 201
        r = await upload(intake, receipt, half + b"z" * 10_000)
        assert r.status_code == 409 and r.json()["error"]["code"] == "attachment_limit_reached", r.text
        assert (await upload(intake, receipt, pdf())).status_code == 201
        r = await upload(intake, receipt, pdf())
        assert r.status_code == 409 and "2" in r.json()["error"]["message"], r.text

        assert len(await objects(intake)) == 2
        assert await intake.count(ATTACHMENTS) == 2
        assert leftovers(intake) == []


async def test_another_case_and_an_unknown_id_answer_404(intake: Intake) -> None:
    mine, theirs = await intake.submit(), await intake.submit()
    r = await upload(intake, theirs, pdf())
    assert r.status_code == 201
    assert (await fetch(intake, mine, r.json()["id"])).status_code == 404
    assert (await fetch(intake, mine, "00000000-0000-0000-0000-000000000000")).status_code == 404
    wrong = await intake.client.get(f"{upload_path(theirs)}/{r.json()['id']}", headers={"X-Receipt": "NOPE"})
    assert wrong.status_code == 404


async def test_a_damaged_object_is_refused_not_served(intake: Intake) -> None:
    receipt = await intake.submit()
    r = await upload(intake, receipt, pdf())
    assert r.status_code == 201
    obs = await intake.bus.js.object_store(FILES_INTAKE.name)
    info = await obs.get_info(r.json()["id"])
    stored = bytearray((await obs.get(r.json()["id"])).data)
    stored[40] ^= 1
    await obs.put(r.json()["id"], bytes(stored), meta=ObjectMeta(name=r.json()["id"], headers=info.headers))
    served = await fetch(intake, receipt, r.json()["id"])
    assert served.status_code == 500 and served.json()["error"]["code"] == "attachment_damaged"
