"""The hub-wide statistics counted from the facts kept per case (routing_svc/stats/facts.py) are the figures the
cohort of every case gives (routing_svc/stats/repository.py), and the facts kept as the cases move are the facts
computed afresh from the cases, stays, clocks and history.

The hand-counted fixture of test_stats.py is driven, then compared at several times: with running clocks late but
not yet marked breached (no sweep ran), after a sweep marked them, and later on, when the ladder has climbed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing_svc.models import CaseFacts, StayFacts
from routing_svc.stats import periods
from routing_svc.stats.facts import hub_tally, refresh_statements
from routing_svc.stats.periods import Granularity
from routing_svc.stats.repository import HUB_ROOT, bucket_cohort, tally
from routing_svc.stats.service import figures
from routing_svc.stats.tally import Tally
from tests.routing_svc.conftest import Hub
from tests.routing_svc.test_stats import WIB, drive_fixture, stats_hub
from tests.support.clock import ManualClock

__all__ = ["stats_hub"]  # the fixture of test_stats.py

PERIODS = (
    (Granularity.day, date(2026, 2, 1), date(2026, 3, 31)),
    (Granularity.day, date(2025, 6, 1), date(2026, 6, 1)),  # the most buckets a request may ask for
    (Granularity.week, date(2026, 1, 26), date(2026, 4, 5)),
    (Granularity.month, date(2025, 12, 1), date(2026, 5, 31)),
    (Granularity.quarter, date(2026, 1, 1), date(2026, 12, 31)),
    (Granularity.year, date(2025, 1, 1), date(2027, 12, 31)),
)


async def both_ways(session: AsyncSession, now: datetime) -> int:
    """Compare every bucket of every period both ways; returns how many cases the months counted."""
    received = 0
    for granularity, first_day, last_day in PERIODS:
        found = periods.buckets(first_day, last_day, granularity, WIB)
        assert found is not None
        windows = [b.window for b in found]
        cohort = await tally(session, bucket_cohort(HUB_ROOT, windows), now, HUB_ROOT)
        kept = await hub_tally(session, windows, now)
        for index, bucket in enumerate(found):
            expected = figures(cohort.get(index, Tally()))
            assert figures(kept.get(index, Tally())) == expected, (granularity.value, bucket.label)
            if granularity is Granularity.month:
                received += expected.received
    return received


async def facts(session: AsyncSession) -> tuple[list[Any], list[Any]]:
    cases = (await session.execute(select(CaseFacts.__table__).order_by(CaseFacts.tracking_id))).all()
    stays = (await session.execute(select(StayFacts.__table__).order_by(StayFacts.assignment_id))).all()
    return [tuple(r) for r in cases], [tuple(r) for r in stays]


async def check(hub: Hub, now: datetime) -> None:
    async with hub.runtime.db.session() as session:
        assert await both_ways(session, now) == 10  # every case of the fixture but the rejected one
        kept = await facts(session)
        for statement in refresh_statements(every=True):
            await session.execute(statement)
        assert await facts(session) == kept
        assert len(kept[0]) == 10 and len(kept[1]) == 9
        await session.rollback()


async def test_the_kept_facts_count_what_the_cohort_counts(stats_hub: tuple[Hub, ManualClock]) -> None:
    hub, clock = stats_hub
    await drive_fixture(hub, clock)
    await check(hub, clock.now())  # nothing swept since the start: late clocks are still marked running

    await hub.sweep()  # they are marked breached now, and the warnings and the first rungs fired
    await check(hub, clock.now())

    for later in (timedelta(days=9), timedelta(days=40)):  # the ladder climbs; nothing swept at the second look
        clock.set(clock.now() + later)
        await check(hub, clock.now())
        await hub.sweep()
        await check(hub, clock.now())
