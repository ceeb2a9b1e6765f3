"""The expected date of an answer: kept from sla.clocks_changed (newest clocks_version wins), shown while awaited."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from intake_svc.app import create_app
from intake_svc.models import Base
from intake_svc.settings import IntakeSettings
from shared.bus import STREAM
from shared.db.migrations import upgrade, upgrade_async
from shared.domain import Status
from shared.events import EventData
from shared.events.contracts import SlaClocksChanged
from shared.events.topology import INTAKE_REPORTER_VIEW
from tests.intake_svc.conftest import Intake, publish_and_wait, status_changed
from tests.support.apps import publish, running_service, service_settings
from tests.support.apps import test_bus as driver_bus
from tests.support.databases import TestDatabase

# 16:59:59.999999 UTC is the last instant of 11 March in WIB; 18:00 UTC is already 12 March there.
END_OF_11_MARCH_WIB = datetime(2026, 3, 11, 16, 59, 59, 999_999, tzinfo=UTC)
EARLY_12_MARCH_WIB = datetime(2026, 3, 11, 18, 0, tzinfo=UTC)
END_OF_25_MARCH_WIB = datetime(2026, 3, 25, 16, 59, 59, 999_999, tzinfo=UTC)


def clocks_changed(tid: str, version: int, expected: datetime | None) -> EventData:
    return SlaClocksChanged(
        tracking_id=tid,
        agency_code="LAPAS-SBY",
        clocks=[],
        escalation_level=0,
        clocks_version=version,
        expected_answer_by=expected,
        changed_at=datetime.now(UTC),
    )


def expected(view: dict[str, Any]) -> tuple[Any, Any]:
    return view["expected_answer_by"], view["expected_answer_date"]


async def test_the_view_shows_the_expected_answer_in_utc_and_as_a_wib_date(intake: Intake) -> None:
    receipt = await intake.submit()
    tid = receipt["tracking_id"]
    assert expected(await intake.view(receipt)) == (None, None), "unknown until the hub says"

    await publish_and_wait(intake, clocks_changed(tid, 1, END_OF_11_MARCH_WIB))
    assert expected(await intake.view(receipt)) == ("2026-03-11T16:59:59.999999Z", "2026-03-11")

    await publish_and_wait(intake, clocks_changed(tid, 2, EARLY_12_MARCH_WIB))
    assert expected(await intake.view(receipt)) == ("2026-03-11T18:00:00Z", "2026-03-12")


async def test_an_older_or_repeated_clocks_version_does_not_overwrite(intake: Intake) -> None:
    receipt = await intake.submit()
    tid = receipt["tracking_id"]
    await publish_and_wait(intake, clocks_changed(tid, 3, END_OF_25_MARCH_WIB))

    await publish_and_wait(intake, clocks_changed(tid, 2, END_OF_11_MARCH_WIB))
    await publish_and_wait(intake, clocks_changed(tid, 3, EARLY_12_MARCH_WIB))
    await publish_and_wait(intake, clocks_changed(tid, 1, None))
    assert expected(await intake.view(receipt)) == ("2026-03-25T16:59:59.999999Z", "2026-03-25")

    await publish_and_wait(intake, clocks_changed(tid, 4, END_OF_11_MARCH_WIB))
    assert expected(await intake.view(receipt))[1] == "2026-03-11"


async def test_no_date_once_answered_again_on_a_dispute_and_none_once_completed(intake: Intake) -> None:
    receipt = await intake.submit()
    tid = receipt["tracking_id"]
    await publish_and_wait(intake, status_changed(tid, 1, Status.dispositioned, Status.submitted))
    await publish_and_wait(intake, clocks_changed(tid, 1, END_OF_11_MARCH_WIB))
    assert expected(await intake.view(receipt))[1] == "2026-03-11"

    # The status change alone hides the date, whether or not the hub's clocks change has arrived yet.
    await publish_and_wait(intake, status_changed(tid, 2, Status.answered, Status.dispositioned))
    assert expected(await intake.view(receipt)) == (None, None)
    await publish_and_wait(intake, clocks_changed(tid, 2, None))
    assert expected(await intake.view(receipt)) == (None, None)

    # The reporter disputes the answer: the case is worked on again, against a new date.
    await publish_and_wait(intake, status_changed(tid, 3, Status.in_progress, Status.answered))
    await publish_and_wait(intake, clocks_changed(tid, 3, END_OF_25_MARCH_WIB))
    assert expected(await intake.view(receipt))[1] == "2026-03-25"

    await publish_and_wait(intake, status_changed(tid, 4, Status.completed, Status.in_progress))
    view = await intake.view(receipt)
    assert view["status"] == "completed" and expected(view) == (None, None)


async def test_a_rejected_case_shows_no_date_though_its_clocks_changed_in_the_same_batch(intake: Intake) -> None:
    receipt = await intake.submit()
    tid = receipt["tracking_id"]
    # Back to back, so that both are likely handled in one batch (one session).
    await publish(intake.bus, status_changed(tid, 1, Status.dispositioned, Status.submitted))
    await publish_and_wait(intake, clocks_changed(tid, 1, END_OF_11_MARCH_WIB))
    assert expected(await intake.view(receipt))[1] == "2026-03-11"
    await publish(intake.bus, clocks_changed(tid, 2, END_OF_25_MARCH_WIB))
    await publish_and_wait(intake, status_changed(tid, 2, Status.rejected, Status.dispositioned, reason="too_general"))
    view = await intake.view(receipt)
    assert view["status"] == "rejected" and expected(view) == (None, None)


async def test_clocks_for_an_unknown_case_are_ignored_like_its_other_events(intake: Intake) -> None:
    await publish_and_wait(intake, clocks_changed("SPL-UNKNOWN000", 1, END_OF_11_MARCH_WIB))
    assert await intake.count(Base.metadata.tables["complaints"]) == 0


async def test_the_openapi_docs_describe_both_fields(intake: Intake) -> None:
    schema = (await intake.client.get("/openapi.json")).json()
    fields = schema["components"]["schemas"]["CaseView"]["properties"]
    assert "UTC" in fields["expected_answer_by"]["description"]
    assert "Asia/Jakarta" in fields["expected_answer_date"]["description"]


async def test_an_existing_durable_takes_up_the_new_subject(database: TestDatabase, natsd: Any, tmp_path: Path) -> None:
    """A deployment whose durable was created before sla.clocks_changed existed gets it after the upgrade."""
    old_subjects = ["simpul.complaint.status_changed", "simpul.followup.posted"]
    async with driver_bus(natsd) as bus:
        await bus.js.add_consumer(
            STREAM,
            ConsumerConfig(
                durable_name=INTAKE_REPORTER_VIEW.name,
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=10.0,
                max_deliver=-1,
                max_ack_pending=4096,
                filter_subjects=old_subjects,
            ),
        )
        settings = service_settings(IntakeSettings, database, natsd, tmp_path)
        async with running_service("intake_svc", create_app, settings) as (app, client):
            intake = Intake(app=app, client=client, bus=bus, settings=settings, database=database)
            receipt = await intake.submit()
            await publish_and_wait(intake, clocks_changed(receipt["tracking_id"], 1, END_OF_11_MARCH_WIB))
            assert expected(await intake.view(receipt))[1] == "2026-03-11"
        info = await bus.js.consumer_info(STREAM, INTAKE_REPORTER_VIEW.name)
        assert set(info.config.filter_subjects or []) == {
            *old_subjects,
            "simpul.sla.clocks_changed",
            "simpul.attachment.added.agency",
        }


async def test_the_migration_keeps_existing_complaints_with_no_date(database: TestDatabase) -> None:
    await asyncio.to_thread(upgrade, "intake_svc", database.url, database.schema, "0001")
    connect_args = {"server_settings": {"search_path": database.schema}} if database.schema else {}
    engine = create_async_engine(database.url, connect_args=connect_args)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO complaints (tracking_id, receipt_hash, title, content, classification, channel,"
                    " is_anonymous, is_confidential, language, status, case_version, submitted_at, updated_at)"
                    " VALUES ('SPL-OLD0000000', 'h', 't', 'c', 'pengaduan', 'web', false, false, 'id', 'dispositioned',"
                    " 2, :now, :now)"
                ),
                {"now": datetime.now(UTC)},
            )
        await upgrade_async("intake_svc", database.url, database.schema)
        async with engine.connect() as conn:
            row = (await conn.execute(text("SELECT expected_answer_by, clocks_version FROM complaints"))).one()
        assert tuple(row) == (None, 0)
    finally:
        await engine.dispose()
