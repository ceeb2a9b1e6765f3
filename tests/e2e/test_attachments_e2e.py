"""Files end to end: `simpul up` as real processes, through the one base URL. A reporter's photo reaches the agency
and the hub; an agency's document reaches the reporter with its follow-up; and a crash between storing a file and
committing its record leaves an object that the sweep removes."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.events.topology import FILES_INTAKE
from tests.e2e.hub import Api, Hub, asyncpg_url, drop_schemas, hub_on, running_hub, wait_for
from tests.support.databases import backends
from tests.support.files import GPS_IFD, exif_of, pdf, photo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=backends())
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with hub_on(request.param, tmp_path_factory.mktemp("hub"), prefix="e2e") as h:
        yield h


@pytest.fixture(scope="module")
def api(hub: Hub) -> Iterator[Api]:
    a = Api(hub)
    yield a
    a.client.close()


def test_files_travel_between_the_reporter_the_agency_and_the_hub(api: Api) -> None:
    api.node("KEMEN-F", "instansi")
    api.node("UPT-F", "upt", "KEMEN-F", region_codes=["3171"])
    upt = api.key("UPT-F")
    receipt = api.submit(category="jalan", region_code="3171", agency_code="UPT-F")
    tid, reporter = receipt["tracking_id"], {"X-Receipt": receipt["receipt"]}

    original = photo("JPEG", (80, 40), orientation=6)
    stored = api.ok(
        api.client.post(
            f"/api/v1/complaints/{tid}/attachments", files={"file": ("IMG_0001.JPG", original)}, headers=reporter
        ),
        201,
    )
    assert stored["media_type"] == "image/jpeg" and stored["filename"] == "IMG_0001.jpg"

    def held() -> dict | None:
        r = api.client.get(f"/api/v1/agency/complaints/{tid}", headers=upt)
        return r.json() if r.status_code == 200 and r.json()["attachments"] else None

    case = wait_for(held, timeout=30)
    assert [a["id"] for a in case["attachments"]] == [stored["id"]]
    got = api.client.get(f"/api/v1/agency/complaints/{tid}/attachments/{stored['id']}", headers=upt)
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == stored["sha256"]
    assert not exif_of(got.content).get_ifd(GPS_IFD)

    answer = api.ok(
        api.client.post(
            f"/api/v1/agency/complaints/{tid}/attachments",
            files={"file": ("surat.pdf", pdf("Surat jawaban"))},
            headers=upt,
        ),
        201,
    )
    api.ok(
        api.client.post(
            f"/api/v1/agency/complaints/{tid}/follow-ups",
            json={"content": "Jalan sudah diperbaiki.", "is_final": True, "attachment_ids": [answer["id"]]},
            headers=upt,
        ),
        201,
    )

    def both_shown() -> dict | None:
        view = api.reporter_view(receipt)
        return view if len(view["attachments"]) == 2 else None

    view = wait_for(both_shown, timeout=30)
    given_by = view["follow_ups"][0]["followup_id"]
    assert view["follow_ups"][0]["attachment_ids"] == [answer["id"]]
    assert {a["id"]: a["followup_id"] for a in view["attachments"]} == {stored["id"]: None, answer["id"]: given_by}
    letter = api.client.get(f"/api/v1/complaints/{tid}/attachments/{answer['id']}", headers=reporter)
    assert letter.status_code == 200 and letter.content == pdf("Surat jawaban")

    def hub_sees_both() -> dict | None:
        r = api.client.get(f"/api/v1/hub/complaints/{tid}", headers=api.admin)
        given = r.status_code == 200 and [a for a in r.json()["attachments"] if a["followup_id"]]
        return r.json() if given and len(r.json()["attachments"]) == 2 else None

    shown = wait_for(hub_sees_both, timeout=30)
    assert {a["id"]: a["followup_id"] for a in shown["attachments"]} == {stored["id"]: None, answer["id"]: given_by}
    for attachment_id in (stored["id"], answer["id"]):
        r = api.client.get(f"/api/v1/hub/complaints/{tid}/attachments/{attachment_id}", headers=api.admin)
        assert r.status_code == 200 and r.headers["x-content-type-options"] == "nosniff"
    nobody = api.client.get(f"/api/v1/hub/complaints/{tid}/attachments/{stored['id']}")
    assert nobody.status_code == 401


async def _live_objects(hub: Hub) -> list[str]:
    bus = hub.ops_bus("test-objects")
    await bus.connect()
    try:
        obs = await bus.js.object_store(FILES_INTAKE.name)
        try:
            return [str(i.name) for i in await obs.list(ignore_deletes=True) if not i.deleted]
        except Exception:
            return []
    finally:
        await bus.close()


def live_objects(hub: Hub) -> list[str]:
    return asyncio.run(_live_objects(hub))


@pytest.mark.skipif(
    "postgres" not in backends(),
    reason="the crash test holds the case's row lock (SELECT ... FOR UPDATE) to stop the upload between storing its"
    " object and committing its record: that needs PostgreSQL (set SIMPUL_TEST_POSTGRES_URL); SQLite's writer lock"
    " is taken at the request's first statement",
)
def test_a_crash_between_storing_and_committing_leaves_an_object_the_sweep_removes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data_dir = tmp_path_factory.mktemp("crash")
    prefix = f"e2e_{uuid.uuid4().hex[:8]}_"
    env = {"SIMPUL_INTAKE_ATTACHMENT_ORPHAN_GRACE_S": "3"}
    try:
        with running_hub(data_dir, postgres=asyncpg_url(), schema_prefix=prefix, env=env) as hub:
            _crash_and_sweep(hub, f"{prefix}intake")
    finally:
        drop_schemas(prefix)


def _crash_and_sweep(hub: Hub, schema: str) -> None:
    api = Api(hub)
    receipt = api.submit()
    tid, reporter = receipt["tracking_id"], {"X-Receipt": receipt["receipt"]}
    assert live_objects(hub) == []

    # Hold the case's row: the upload stores its object, then waits for the row to record the file; intake dies.
    holder = _RowLock(schema, tid)
    answers: list[Any] = []

    def send() -> None:
        try:
            answers.append(
                httpx.post(
                    f"{hub.base_url}/api/v1/complaints/{tid}/attachments",
                    files={"file": ("bukti.pdf", pdf())},
                    headers=reporter,
                    timeout=60,
                )
            )
        except httpx.HTTPError as exc:
            answers.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        orphans = wait_for(lambda: live_objects(hub) or None, timeout=20)
        intake_pid = hub.service_pid("intake")
        os.kill(intake_pid, signal.SIGKILL)
    finally:
        holder.release()
    sender.join(60)
    (answer,) = answers
    assert isinstance(answer, Exception) or answer.status_code != 201, "no 201 without the record"
    assert len(orphans) == 1

    # intake comes back (the supervisor restarts it) and its sweep removes the object no record names.
    wait_for(lambda: hub.service_pid("intake") != intake_pid or None, timeout=30)
    wait_for(lambda: live_objects(hub) == [] or None, timeout=60)
    assert api.reporter_view(receipt)["attachments"] == []

    # A file whose record was committed outlives the sweep.
    kept = api.ok(
        api.client.post(
            f"/api/v1/complaints/{tid}/attachments", files={"file": ("bukti.pdf", pdf())}, headers=reporter
        ),
        201,
    )
    time.sleep(8)
    assert live_objects(hub) == [kept["id"]]
    got = api.client.get(f"/api/v1/complaints/{tid}/attachments/{kept['id']}", headers=reporter)
    assert got.status_code == 200 and got.content == pdf()
    api.client.close()


class _RowLock:
    """A transaction, in a thread of its own, holding one complaint's row in intake's schema until released."""

    def __init__(self, schema: str, tracking_id: str):
        self._locked = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._hold(schema, tracking_id)))
        self._thread.start()
        assert self._locked.wait(30), "the row lock was not taken"

    async def _hold(self, schema: str, tracking_id: str) -> None:
        engine = create_async_engine(asyncpg_url())
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(f'SELECT 1 FROM "{schema}".complaints WHERE tracking_id = :t FOR UPDATE'), {"t": tracking_id}
                )
                self._locked.set()
                while not self._release.is_set():
                    await asyncio.sleep(0.05)
                await conn.rollback()
        finally:
            await engine.dispose()

    def release(self) -> None:
        self._release.set()
        self._thread.join(30)
