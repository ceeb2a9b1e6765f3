"""A node's files through agency's API, and the reporters' files as intake's events bring them: who may see and
download which, follow-ups that name files, and the metadata-only webhook."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from agency_svc.models import ATTACHMENTS
from shared.crypto import Sealer
from shared.domain import Classification, ScanStatus, Status, UploaderKind
from shared.events.contracts import AttachmentAdded, AttachmentMeta
from shared.events.topology import FILES_INTAKE, Service
from shared.files.store import FileStore
from tests.agency_svc.conftest import Agency, new_tid
from tests.agency_svc.webhook_peers import receiver, register, wait_delivery, webhook_agency
from tests.support.apps import TEST_FILES_KEY, eventually, publish
from tests.support.databases import TestDatabase
from tests.support.files import pdf, photo

SECRET = "whsec_receiver-shared-secret-42"


def files_path(tid: str) -> str:
    return f"/api/v1/agency/complaints/{tid}/attachments"


async def upload(agency: Agency, who: str, tid: str, data: bytes, name: str = "jawaban.pdf") -> httpx.Response:
    return await agency.client.post(
        files_path(tid), files={"file": (name, data, "application/octet-stream")}, headers=agency.h(who)
    )


async def held(agency: Agency, code: str = "UPT", **snap: Any) -> str:
    tid = new_tid()
    await agency.dispose(tid, code, 1, **snap)
    await agency.wait_case(code, tid, status="dispositioned")
    return tid


async def reporter_file(agency: Agency, tid: str, data: bytes, *, infected: bool = False) -> AttachmentAdded:
    """A reporter's file as intake stores it (sealed in intake's bucket) and announces it."""
    attachment_id = str(uuid.uuid4())
    if not infected:
        source = Path(f"/tmp/simpul-test-{attachment_id}")
        source.write_bytes(data)
        try:
            await FileStore(agency.bus, FILES_INTAKE, Sealer([TEST_FILES_KEY])).put(attachment_id, source)
        finally:
            source.unlink()
    event = AttachmentAdded(
        tracking_id=tid,
        owner=Service.intake.value,
        uploader_kind=UploaderKind.reporter,
        bucket=FILES_INTAKE.name,
        object_name=attachment_id,
        attachment=AttachmentMeta(
            id=attachment_id,
            filename="kuitansi.pdf",
            media_type="application/pdf",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            scan_status=ScanStatus.infected if infected else ScanStatus.clean,
            uploaded_by="reporter",
            uploaded_at=datetime.now(UTC),
        ),
    )
    await publish(agency.bus, event)
    return event


async def test_a_node_uploads_names_its_files_in_a_follow_up_and_the_subtree_sees_them(tree: Agency) -> None:
    tid = await held(tree)
    r = await upload(tree, "UPT", tid, photo("PNG", orientation=1), name="lokasi.jpg")
    assert r.status_code == 201, r.text
    image = r.json()
    assert image["media_type"] == "image/png" and image["filename"] == "lokasi.png" and image["uploaded_by"] == "UPT"
    document = (await upload(tree, "UPT", tid, pdf())).json()

    follow_up = {"content": "Sudah kami tindak, lihat lampiran.", "attachment_ids": [image["id"], document["id"]]}
    r = await tree.post("UPT", tid, "follow-ups", follow_up)
    assert r.status_code == 201, r.text
    assert r.json()["attachment_ids"] == [image["id"], document["id"]]

    r = await tree.post("UPT", tid, "follow-ups", {"content": "Lagi.", "attachment_ids": [image["id"]]})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["type"] == "unknown_attachment", r.text
    r = await tree.post("UPT", tid, "follow-ups", {"content": "Lagi.", "attachment_ids": ["tidak-ada"]})
    assert r.status_code == 422, r.text

    for who in ("UPT", "KANWIL", "KEMEN"):
        case = await tree.case_json(who, tid)
        assert {a["id"]: a["followup_id"] for a in case["attachments"]} == {
            image["id"]: case["follow_ups"][0]["followup_id"],
            document["id"]: case["follow_ups"][0]["followup_id"],
        }
        served = await tree.client.get(f"{files_path(tid)}/{document['id']}", headers=tree.h(who))
        assert served.status_code == 200 and served.content == pdf()
        assert served.headers["content-disposition"].startswith("attachment;")
    hidden = await tree.client.get(f"{files_path(tid)}/{document['id']}", headers=tree.h("OTHER"))
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    assert (await upload(tree, "OTHER", tid, pdf())).status_code == 404


async def test_a_reporters_file_is_seen_and_served_but_an_infected_one_never(tree: Agency) -> None:
    tid = await held(tree)
    clean = await reporter_file(tree, tid, pdf("bukti"))
    infected = await reporter_file(tree, tid, b"not stored", infected=True)

    async def recorded() -> bool:
        async with tree.runtime.db.engine.connect() as conn:
            return len((await conn.execute(select(ATTACHMENTS.c.id))).all()) == 2

    await eventually(recorded)
    case = await tree.case_json("UPT", tid)
    assert [a["id"] for a in case["attachments"]] == [clean.attachment.id]
    served = await tree.client.get(f"{files_path(tid)}/{clean.attachment.id}", headers=tree.h("KANWIL"))
    assert served.status_code == 200 and served.content == pdf("bukti")
    never = await tree.client.get(f"{files_path(tid)}/{infected.attachment.id}", headers=tree.h("UPT"))
    assert never.status_code == 404


async def test_a_wbs_cases_files_are_for_its_holder_alone(tree: Agency) -> None:
    tid = await held(tree, classification=Classification.wbs, is_anonymous=True, is_confidential=True)
    file = await reporter_file(tree, tid, pdf("laporan pelanggaran"))
    await eventually(lambda: _has_attachment(tree, "UPT", tid))
    assert (await tree.client.get(f"{files_path(tid)}/{file.attachment.id}", headers=tree.h("UPT"))).status_code == 200
    for ancestor in ("KANWIL", "KEMEN"):
        r = await tree.client.get(f"{files_path(tid)}/{file.attachment.id}", headers=tree.h(ancestor))
        assert r.status_code == 404


async def _has_attachment(agency: Agency, who: str, tid: str) -> bool:
    r = await agency.case(who, tid)
    return r.status_code == 200 and bool(r.json()["attachments"])


async def test_a_closed_case_takes_no_files_and_archiving_removes_them(tree: Agency) -> None:
    tid = await held(tree)
    mine = (await upload(tree, "UPT", tid, pdf())).json()
    reporters = await reporter_file(tree, tid, pdf("dari pelapor"))
    await eventually(lambda: _count(tree, tid, 2))
    await tree.status(tid, Status.completed, 2, agency_code="UPT", previous=Status.dispositioned)
    await tree.wait_case("UPT", tid, status="completed")
    r = await upload(tree, "UPT", tid, pdf())
    assert r.status_code == 409 and r.json()["error"]["code"] == "illegal_transition"

    await tree.status(tid, Status.archived, 3, agency_code="UPT", previous=Status.completed)
    await eventually(lambda: _count(tree, tid, 0, removed=False))
    obs = await tree.bus.js.object_store("simpul-files-agency")
    info = await obs.get_info(mine["id"], show_deleted=True)
    assert info.deleted, "the node's own object is deleted"
    intake_obs = await tree.bus.js.object_store(FILES_INTAKE.name)
    assert not (await intake_obs.get_info(reporters.attachment.id)).deleted, "intake removes its own"


async def _count(agency: Agency, tid: str, n: int, *, removed: bool | None = None) -> bool:
    stmt = select(ATTACHMENTS.c.id).where(ATTACHMENTS.c.tracking_id == tid)
    if removed is False:
        stmt = stmt.where(ATTACHMENTS.c.removed_at.is_(None))
    async with agency.runtime.db.engine.connect() as conn:
        return len((await conn.execute(stmt)).all()) == n


async def test_the_webhook_names_the_file_and_never_carries_it(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    async with webhook_agency(database, natsd, tmp_path) as agency, receiver(SECRET) as peer:
        hook = await register(agency, "UPT", peer.url, "attachment.added", secret=SECRET)
        tid = await held(agency)
        event = await reporter_file(agency, tid, pdf("rahasia pelapor"))
        await wait_delivery(agency, "UPT", hook["id"], status="delivered")
        (request,) = peer.received
        assert request.headers["simpul-event-type"] == "attachment.added"
        body = json.loads(request.raw)
        assert body["tracking_id"] == tid and body["data"]["id"] == event.attachment.id
        assert body["data"]["sha256"] == event.attachment.sha256 and body["data"]["media_type"] == "application/pdf"
        assert b"rahasia pelapor" not in request.raw and "object_name" not in body["data"]


async def test_a_retried_upload_with_its_idempotency_key_stores_one_file(tree: Agency) -> None:
    tid = await held(tree)
    headers = {**tree.h("UPT"), "Idempotency-Key": "unggah-1"}
    first = await tree.client.post(files_path(tid), files={"file": ("a.pdf", pdf())}, headers=headers)
    again = await tree.client.post(files_path(tid), files={"file": ("a.pdf", pdf())}, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = await tree.client.post(files_path(tid), files={"file": ("a.pdf", pdf("lain"))}, headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_mismatch"
    assert [a["id"] for a in (await tree.case_json("UPT", tid))["attachments"]] == [first.json()["id"]]
    obs = await tree.bus.js.object_store("simpul-files-agency")
    assert [i.name for i in await obs.list(ignore_deletes=True)] == [first.json()["id"]]
