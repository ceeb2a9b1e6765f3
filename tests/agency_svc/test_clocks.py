"""SLA clocks from sla.clocks_changed: kept per case by clocks_version, shown by subtree, and the overdue filter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import select

from agency_svc.app import create_app
from agency_svc.models import KIT, CaseClockDeadline, CaseClocks
from agency_svc.settings import AgencySettings
from shared.bus import STREAM
from shared.domain import ClockKind, ClockState
from shared.events import EventData, encode_event, new_event
from shared.events.contracts import ClockView, SlaClocksChanged
from shared.events.topology import AGENCY_INBOX, filter_subjects
from tests.agency_svc.conftest import Agency, new_tid
from tests.support.apps import eventually, publisher_of, running_service, service_settings
from tests.support.apps import test_bus as driver_bus
from tests.support.clock import CLOCK_FILE_ENV, CLOCK_SPEC, FileClock
from tests.support.databases import TestDatabase

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def clock(
    name: ClockKind,
    agency_code: str | None,
    due_in: timedelta,
    *,
    state: ClockState = ClockState.running,
    paused: bool = False,
    stopped: bool = False,
    level: int = 0,
) -> ClockView:
    """A clock due `due_in` from now (real time), started three days before."""
    now = datetime.now(UTC)
    return ClockView(
        name=name,
        agency_code=agency_code,
        working_days=5,
        started_at=now - 3 * DAY,
        due_at=now + due_in,
        paused=paused,
        state=state,
        stopped_at=now - HOUR if stopped else None,
        escalation_level=level,
    )


def clocks_changed(
    tid: str, version: int, clocks: list[ClockView], *, agency_code: str | None = "UPT", level: int | None = None
) -> SlaClocksChanged:
    return SlaClocksChanged(
        tracking_id=tid,
        agency_code=agency_code,
        clocks=clocks,
        escalation_level=max((c.escalation_level for c in clocks), default=0) if level is None else level,
        clocks_version=version,
        expected_answer_by=datetime.now(UTC) + 14 * DAY,
        changed_at=datetime.now(UTC),
    )


async def handled(tree: Agency, data: EventData) -> None:
    """Publish `data` and wait until the inbox consumer has handled it (its id is recorded only on success)."""
    env = new_event(data, source=publisher_of(data))
    await tree.bus.publish(data.subject(), encode_event(env), headers={"Nats-Msg-Id": str(env.id)})
    t = KIT.processed_events

    async def seen() -> bool:
        async with tree.runtime.db.engine.connect() as conn:
            found = await conn.execute(
                select(t.c.event_id).where(t.c.consumer == AGENCY_INBOX.name, t.c.event_id == str(env.id))
            )
            return found.first() is not None

    await eventually(seen)


def at(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def names(case: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(c["name"], c["agency_code"]) for c in case["clocks"]]


async def summaries(tree: Agency, who: str, **params: Any) -> dict[str, dict[str, Any]]:
    r = await tree.client.get("/api/v1/agency/complaints", params=params, headers=tree.h(who))
    assert r.status_code == 200, r.text
    return {c["tracking_id"]: c for c in r.json()["items"]}


async def test_clocks_appear_in_the_detail_view_and_the_inbox(tree: Agency) -> None:
    tid = new_tid()
    await tree.dispose(tid, "UPT", 1)
    case = await tree.wait_case("UPT", tid)
    assert case["clocks"] == [] and case["escalation_level"] == 0
    line = (await summaries(tree, "UPT"))[tid]
    assert line["escalation_level"] == 0 and line["next_due_at"] is None

    verification = clock(ClockKind.verification, None, -DAY, state=ClockState.breached, stopped=True, level=3)
    first = clock(ClockKind.first_response, "UPT", 2 * DAY)
    resolution = clock(ClockKind.resolution, "UPT", 10 * DAY)
    await handled(tree, clocks_changed(tid, 1, [verification, first, resolution]))

    case = await tree.case_json("UPT", tid)
    assert names(case) == [("first_response", "UPT"), ("resolution", "UPT")]
    shown = case["clocks"][0]
    assert at(shown["due_at"]) == first.due_at and at(shown["started_at"]) == first.started_at
    assert shown["state"] == "running" and shown["paused"] is False and shown["working_days"] == 5
    assert case["escalation_level"] == 0, "the hub's verification clock (level 3) is not the agency's business"
    for who in ("UPT", "KANWIL", "KEMEN"):
        line = (await summaries(tree, who))[tid]
        assert line["escalation_level"] == 0
        assert at(line["next_due_at"]) == first.due_at

    # The node answers the first response in time; the resolution clock breaches and keeps running.
    first_met = first.model_copy(update={"state": ClockState.met, "stopped_at": datetime.now(UTC)})
    late = clock(ClockKind.resolution, "UPT", -HOUR, state=ClockState.breached, level=1)
    await handled(tree, clocks_changed(tid, 2, [verification, first_met, late]))

    case = await tree.case_json("KANWIL", tid)
    assert [(c["name"], c["state"]) for c in case["clocks"]] == [("first_response", "met"), ("resolution", "breached")]
    assert case["escalation_level"] == 1
    line = (await summaries(tree, "KEMEN"))[tid]
    assert line["escalation_level"] == 1
    assert at(line["next_due_at"]) == late.due_at, "a breached clock that has not stopped is still due"


async def test_an_older_clocks_version_never_overwrites_a_newer_one(tree: Agency) -> None:
    tid = new_tid()
    await tree.dispose(tid, "UPT", 1)
    await tree.wait_case("UPT", tid)
    newer = [clock(ClockKind.first_response, "UPT", 2 * DAY)]
    await handled(tree, clocks_changed(tid, 3, newer))

    older = [clock(ClockKind.first_response, "UPT", -HOUR, state=ClockState.breached, level=2)]
    await handled(tree, clocks_changed(tid, 2, older))
    await handled(tree, clocks_changed(tid, 3, older))  # the same version again, another event id: ignored too

    case = await tree.case_json("UPT", tid)
    assert [(c["state"], at(c["due_at"])) for c in case["clocks"]] == [("running", newer[0].due_at)]
    assert case["escalation_level"] == 0
    assert tid not in await tree.inbox("UPT", overdue=True), "the older clocks' due times were not kept either"
    async with tree.runtime.db.session() as s:
        stored = await s.get(CaseClocks, tid)
        assert stored is not None and stored.clocks_version == 3
        deadlines = (await s.execute(select(CaseClockDeadline).where(CaseClockDeadline.tracking_id == tid))).all()
        assert len(deadlines) == 1

    await handled(tree, clocks_changed(tid, 4, older))
    case = await tree.case_json("UPT", tid)
    assert [c["state"] for c in case["clocks"]] == ["breached"] and case["escalation_level"] == 2
    assert tid in await tree.inbox("UPT", overdue=True)


async def test_clocks_before_the_disposition_show_once_the_case_arrives(tree: Agency) -> None:
    tid, in_triage = new_tid(), new_tid()
    first = clock(ClockKind.first_response, "UPT", 2 * DAY)
    # Handled at once (no RetryLater), though no case is held here: one will be, the other never.
    await handled(tree, clocks_changed(tid, 1, [first]))
    await handled(tree, clocks_changed(in_triage, 1, [clock(ClockKind.verification, None, DAY)], agency_code=None))
    assert await tree.stored(tid) is None and await tree.stored(in_triage) is None
    assert (await tree.case("UPT", tid)).status_code == 404
    async with tree.runtime.db.session() as s:
        assert {c.tracking_id for c in (await s.execute(select(CaseClocks))).scalars()} == {tid, in_triage}

    await tree.dispose(tid, "UPT", 1)
    case = await tree.wait_case("UPT", tid)
    assert names(case) == [("first_response", "UPT")]
    assert at(case["clocks"][0]["due_at"]) == first.due_at
    assert at((await summaries(tree, "KANWIL"))[tid]["next_due_at"]) == first.due_at


async def test_another_nodes_clocks_are_not_shown(tree: Agency) -> None:
    tid = new_tid()
    await tree.dispose(tid, "UPT", 2, previous="OTHER")
    await tree.wait_case("UPT", tid)
    await handled(
        tree,
        clocks_changed(
            tid,
            5,
            [
                clock(ClockKind.verification, None, DAY, level=3),
                clock(ClockKind.first_response, "OTHER", -DAY, state=ClockState.breached, level=2),
                clock(ClockKind.resolution, "KANWIL", 8 * DAY),
                clock(ClockKind.first_response, "UPT", 2 * DAY),
            ],
            level=3,
        ),
    )
    upt = await tree.case_json("UPT", tid)
    assert names(upt) == [("first_response", "UPT")] and upt["escalation_level"] == 0
    for who in ("KANWIL", "KEMEN"):
        case = await tree.case_json(who, tid)
        assert names(case) == [("resolution", "KANWIL"), ("first_response", "UPT")]
        assert case["escalation_level"] == 0
    assert tid not in await tree.inbox("UPT", overdue=True), "the other branch's breached clock is not ours"
    assert tid not in await tree.inbox("KEMEN", overdue=True)
    assert (await tree.case("OTHER", tid)).status_code == 404


@pytest.fixture
async def timed(
    database: TestDatabase, natsd: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Agency, Path]]:
    """agency_svc whose clock the test moves (FileClock), with the tree seeded; yields it and the clock file."""
    clock_file = tmp_path / "clock.json"
    monkeypatch.setenv(CLOCK_FILE_ENV, str(clock_file))
    settings = service_settings(AgencySettings, database, natsd, tmp_path, clock=CLOCK_SPEC)
    async with running_service("agency_svc", create_app, settings) as (app, client), driver_bus(natsd) as bus:
        agency = Agency(app=app, client=client, bus=bus)
        await agency.seed_tree()
        yield agency, clock_file


async def test_the_overdue_filter(timed: tuple[Agency, Path]) -> None:
    tree, clock_file = timed
    soon, late, paused, met, hubs, bare, kanwil = (new_tid() for _ in range(7))
    for tid in (soon, late, paused, met, hubs, bare, kanwil):
        await tree.dispose(tid, "UPT", 1)
    await tree.wait_case("UPT", kanwil)
    upt_clocks = {
        soon: [clock(ClockKind.first_response, "UPT", HOUR)],
        late: [clock(ClockKind.resolution, "UPT", -HOUR, state=ClockState.breached, level=1)],
        paused: [clock(ClockKind.resolution, "UPT", -HOUR, paused=True)],
        met: [clock(ClockKind.first_response, "UPT", -HOUR, state=ClockState.met, stopped=True)],
        hubs: [clock(ClockKind.verification, None, -HOUR, state=ClockState.breached, level=3)],
        kanwil: [clock(ClockKind.resolution, "KANWIL", -HOUR), clock(ClockKind.first_response, "UPT", 2 * DAY)],
    }
    for tid, clocks in upt_clocks.items():
        await handled(tree, clocks_changed(tid, 1, clocks))

    everyone = {soon, late, paused, met, hubs, bare, kanwil}
    assert set(await tree.inbox("KEMEN", overdue=True)) == {late, kanwil}
    assert set(await tree.inbox("KANWIL", overdue=True)) == {late, kanwil}
    assert set(await tree.inbox("UPT", overdue=True)) == {late}, "KANWIL's clock is not UPT's"
    assert set(await tree.inbox("UPT", overdue=False)) == everyone - {late}
    assert set(await tree.inbox("KEMEN")) == everyone
    assert set(await tree.inbox("UPT", overdue=True, status="dispositioned")) == {late}
    assert await tree.inbox("UPT", overdue=True, status="in_progress") == []
    lines = await summaries(tree, "KEMEN")
    assert [lines[t]["next_due_at"] for t in (paused, met, hubs, bare)] == [None] * 4
    assert lines[late]["escalation_level"] == 1 and lines[hubs]["escalation_level"] == 0

    # Two hours on, by the service's clock: the clock due in an hour is past due too.
    FileClock.write(clock_file, 2 * HOUR)
    assert set(await tree.inbox("KEMEN", overdue=True)) == {soon, late, kanwil}
    assert set(await tree.inbox("UPT", overdue=True)) == {soon, late}

    # Paging over the overdue cases only.
    first_page = await tree.client.get(
        "/api/v1/agency/complaints", params={"overdue": True, "limit": 2}, headers=tree.h("KEMEN")
    )
    assert first_page.status_code == 200 and first_page.json()["next_offset"] == 2
    rest = await tree.inbox("KEMEN", overdue=True, limit=2, offset=2)
    assert {c["tracking_id"] for c in first_page.json()["items"]} | set(rest) == {soon, late, kanwil}


async def test_an_existing_durable_takes_the_new_subject(database: TestDatabase, natsd: Any, tmp_path: Path) -> None:
    """A deployment whose agency-inbox durable predates sla.clocks_changed receives it after the upgrade."""
    old_subjects = [s for s in filter_subjects(AGENCY_INBOX) if s != "simpul.sla.clocks_changed"]
    async with driver_bus(natsd) as bus:
        await bus.wait_ready(10)
        await bus.js.add_consumer(
            STREAM,
            ConsumerConfig(
                durable_name=AGENCY_INBOX.name,
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                filter_subjects=old_subjects,
            ),
        )
    settings = service_settings(AgencySettings, database, natsd, tmp_path)
    async with running_service("agency_svc", create_app, settings) as (app, client), driver_bus(natsd) as bus:
        tree = Agency(app=app, client=client, bus=bus)

        async def filters() -> list[str]:
            info = await bus.js.consumer_info(STREAM, AGENCY_INBOX.name)
            subjects = info.config.filter_subjects or []
            return subjects if "simpul.sla.clocks_changed" in subjects else []

        assert sorted(await eventually(filters)) == sorted(filter_subjects(AGENCY_INBOX))
        tid = new_tid()
        await handled(tree, clocks_changed(tid, 1, [clock(ClockKind.first_response, "UPT", DAY)]))
        async with tree.runtime.db.session() as s:
            stored = await s.get(CaseClocks, tid)
            assert stored is not None and stored.clocks_version == 1
