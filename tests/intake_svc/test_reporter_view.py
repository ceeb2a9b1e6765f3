"""The reporter's view: receipts guard it, and the hub's events keep it current (newest case_version wins)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from intake_svc.models import Base
from shared.domain import Status
from shared.events.contracts import FollowupPosted
from tests.intake_svc.conftest import Intake, publish_and_wait, status_changed
from tests.support.apps import eventually, publish


async def test_unknown_case_wrong_and_missing_receipt_look_the_same(intake: Intake) -> None:
    receipt = await intake.submit()
    tid = receipt["tracking_id"]
    other = await intake.submit()
    answers = [
        await intake.client.get(f"/api/v1/complaints/{tid}", headers={"X-Receipt": other["receipt"]}),
        await intake.client.get(f"/api/v1/complaints/{tid}", headers={"X-Receipt": "AAAA-BBBB"}),
        await intake.client.get(f"/api/v1/complaints/{tid}"),
        await intake.client.get("/api/v1/complaints/SPL-0000000000", headers={"X-Receipt": receipt["receipt"]}),
        await intake.client.get("/api/v1/complaints/not-even-an-id", headers={"X-Receipt": receipt["receipt"]}),
        await intake.client.get(f"/api/v1/complaints/{tid}", headers={"X-Receipt": "x" * 5000}),
    ]
    assert {r.status_code for r in answers} == {404}
    assert len({r.content for r in answers}) == 1, "byte-identical bodies"
    assert answers[0].json()["error"]["code"] == "not_found"


async def test_status_and_followups_reach_the_view_and_old_versions_do_not_roll_back(intake: Intake) -> None:
    receipt = await intake.submit(language="en")
    tid = receipt["tracking_id"]
    # The hub's own "submitted" for the new case adds nothing to the timeline.
    await publish_and_wait(intake, status_changed(tid, 1, Status.submitted, None))
    followup = FollowupPosted(
        tracking_id=tid,
        followup_id=str(uuid.uuid4()),
        agency_code="LAPAS-SBY",
        agency_name="Lapas Surabaya",
        content="Pungutan dihentikan; petugas diperiksa.",
        is_final=True,
        actor="agency:LAPAS-SBY",
        posted_at=datetime.now(UTC) + timedelta(minutes=1, seconds=30),
    )
    await publish(intake.bus, followup)
    await publish(
        intake.bus,
        status_changed(tid, 2, Status.answered, Status.in_progress, agency_code="LAPAS-SBY", reason="Dijawab"),
    )

    async def answered() -> dict | None:
        view = await intake.view(receipt)
        return view if view["status"] == "answered" and view["follow_ups"] else None

    view = await eventually(answered)
    assert view["status_label"] == "Ditindaklanjuti"
    assert view["agency_code"] == "LAPAS-SBY"
    assert view["follow_ups"] == [
        {
            "followup_id": followup.followup_id,
            "agency_code": "LAPAS-SBY",
            "agency_name": "Lapas Surabaya",
            "content": followup.content,
            "is_final": True,
            "posted_at": view["follow_ups"][0]["posted_at"],
            "attachment_ids": [],
        }
    ]
    timeline = view["timeline"]
    assert [t["status"] for t in timeline] == ["submitted", "submitted", "answered"]
    assert timeline[1]["note"] == "Final follow-up from Lapas Surabaya"
    assert timeline[2]["note"] == "Dijawab" and timeline[2]["status_label"] == "Ditindaklanjuti"
    assert view["updated_at"] > view["submitted_at"]

    # Older versions arriving late, and repeats of the follow-up, change nothing.
    await publish_and_wait(intake, status_changed(tid, 1, Status.dispositioned, Status.submitted))
    await publish_and_wait(intake, status_changed(tid, 2, Status.completed, Status.answered))
    await publish_and_wait(intake, followup)
    again = await intake.view(receipt)
    assert again["status"] == "answered"
    assert again["timeline"] == timeline and again["follow_ups"] == view["follow_ups"]

    # A newer version applies.
    await publish_and_wait(intake, status_changed(tid, 3, Status.completed, Status.answered))
    done = await intake.view(receipt)
    assert done["status"] == "completed"
    assert [t["status"] for t in done["timeline"]][-1] == "completed"


async def test_events_for_unknown_cases_are_ignored(intake: Intake) -> None:
    await publish_and_wait(intake, status_changed("SPL-UNKNOWN000", 1, Status.dispositioned, Status.submitted))
    await publish_and_wait(
        intake,
        FollowupPosted(
            tracking_id="SPL-UNKNOWN000",
            followup_id="f-1",
            agency_code="X",
            content="?",
            is_final=False,
            actor="agency:X",
            posted_at=datetime.now(UTC),
        ),
    )
    assert await intake.count(Base.metadata.tables["follow_ups"]) == 0
    assert await intake.count(Base.metadata.tables["timeline_entries"]) == 0
