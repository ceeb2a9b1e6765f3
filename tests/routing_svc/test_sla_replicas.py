"""Two routing_svc replicas on one database sweep the same clocks: every warning, breach and rung fires once.
And a change of calendar recomputes the open clocks when the service starts."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from routing_svc.app import create_app
from routing_svc.settings import RoutingSettings
from routing_svc.sla.sweep import sweep_once
from services.natsd import NatsServer
from tests.routing_svc.conftest import START, Hub
from tests.routing_svc.test_sla import END_OF, at, one_clock, tree
from tests.support.apps import eventually, running_service, service_settings, test_bus
from tests.support.clock import ManualClock
from tests.support.databases import TestDatabase

CASES = 12


@pytest.fixture
async def replicas(database: TestDatabase, natsd: NatsServer, tmp_path: Path) -> AsyncIterator[list[Hub]]:
    """Two replicas sharing the database, the broker and a ManualClock; both sweep workers run every 20 ms."""
    clock = ManualClock(START)
    async with AsyncExitStack() as stack:
        hubs = []
        for name in ("a", "b"):
            settings = service_settings(RoutingSettings, database, natsd, tmp_path / name, sla_sweep_interval=0.02)
            app, client = await stack.enter_async_context(
                running_service("routing_svc", create_app, settings, clock=clock)
            )
            bus = await stack.enter_async_context(test_bus(natsd))
            hubs.append(Hub(app=app, client=client, bus=bus, settings=settings))
        yield hubs


async def race(hubs: list[Hub]) -> None:
    """Both replicas sweep at once, in small batches, until nothing is due; their workers keep sweeping too."""
    while True:
        seen = await asyncio.gather(*(sweep_once(h.runtime.db, h.runtime.context, 3) for h in hubs for _ in range(3)))
        if not any(seen):
            break
    await eventually(hubs[0].outbox_drained)


def fired(events: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter((e["data"]["tracking_id"], e["data"]["clock"], e["data"].get("level")) for e in events)


async def test_two_replicas_fire_the_ladder_once_each_in_order(replicas: list[Hub]) -> None:
    a, b = replicas
    await tree(a)
    tids = [await a.submit(agency_code="KANWIL-JATIM") for _ in range(CASES)]
    steps = [
        ("2026-03-06T14:00:00Z", "simpul.sla.warning", CASES),  # first response at 80%
        ("2026-03-09T17:00:00Z", "simpul.complaint.escalated", CASES),  # first response breached: level 1
        ("2026-03-16T17:00:00Z", "simpul.complaint.escalated", 2 * CASES),  # level 2
        ("2026-03-30T17:00:00Z", "simpul.complaint.escalated", 4 * CASES),  # level 3; resolution level 1
    ]
    for when, subject, expected in steps:
        a.clock.set(at(when))
        await race(replicas)
        events = await eventually(lambda s=subject, n=expected: _exactly(a, s, n))  # type: ignore[misc]
        assert all(n == 1 for n in fired(events).values()), fired(events)

    a.clock.set(START + timedelta(days=200))
    await race(replicas)
    rungs = await eventually(lambda: _exactly(a, "simpul.complaint.escalated", 7 * CASES))
    counts = fired(rungs)
    assert set(counts.values()) == {1} and len(counts) == 7 * CASES
    for tid in tids:
        order = [(e["data"]["clock"], e["data"]["level"]) for e in rungs if e["data"]["tracking_id"] == tid]
        assert order == [
            ("first_response", 1),
            ("first_response", 2),
            ("first_response", 3),
            ("resolution", 1),
            ("resolution", 2),
            ("resolution", 3),
            ("resolution", 4),
        ]
    assert len(await a.events("simpul.sla.warning")) == 2 * CASES
    both = [await a.case(tids[0]), await b.case(tids[0])]
    assert both[0]["escalation_level"] == both[1]["escalation_level"] == 4


async def _exactly(hub: Hub, subject: str, count: int) -> list[dict[str, Any]] | None:
    events = await hub.events(subject)
    assert len(events) <= count, f"{len(events)} events on {subject}, expected {count}"
    return events if len(events) == count else None


async def test_a_changed_calendar_recomputes_open_clocks_at_start(
    database: TestDatabase, natsd: NatsServer, tmp_path: Path
) -> None:
    clock = ManualClock(START)
    settings = service_settings(RoutingSettings, database, natsd, tmp_path, sla_sweep_interval=3600)
    async with (
        running_service("routing_svc", create_app, settings, clock=clock) as (app, client),
        test_bus(natsd) as bus,
    ):
        hub = Hub(app=app, client=client, bus=bus, settings=settings)
        await tree(hub)
        tid = await hub.submit(agency_code="KANWIL-JATIM")
        assert one_clock(await hub.case(tid), "first_response")["due_at"] == "2026-03-09" + END_OF

    # Wednesday 4 March becomes a holiday: every open deadline after it moves on by a working day.
    changed = settings.model_copy(update={"extra_holidays": [date(2026, 3, 4)]})
    async with (
        running_service("routing_svc", create_app, changed, clock=clock) as (app, client),
        test_bus(natsd) as bus,
    ):
        hub = Hub(app=app, client=client, bus=bus, settings=changed)

        async def recomputed() -> dict[str, Any] | None:
            case = await hub.case(tid)
            return case if one_clock(case, "first_response")["due_at"] == "2026-03-10" + END_OF else None

        case = await eventually(recomputed)
        assert one_clock(case, "resolution")["due_at"] == "2026-03-30" + END_OF
        assert one_clock(case, "verification")["due_at"] == "2026-03-05" + END_OF  # stopped: left alone
