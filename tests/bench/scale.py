"""The scale bench (issue 7): routing latency with a national directory against a 10-node one, and the due-clock
sweep and the statistics queries with a million open cases on PostgreSQL.

- Routing: routing_svc takes in complaint.submitted and routes it (cases.handlers.on_submitted, in a transaction of
  its own), for a mix of complaints (tests/bench/scale_directory.py), against a 10-node directory and a national
  one (700 instansi, 20,000 units, 20,000 rules); p50/p99 of on_submitted alone and with the commit. On PostgreSQL
  when given (`routing`), and then on SQLite as well (`routing_sqlite`); on SQLite only otherwise.
- Sweep: one sweep_once (the default batch of 200) over 1,000,000 open cases of which 200 clocks are due
  (tests/bench/scale_cases.py, vacuumed and analyzed after the load as autovacuum would), the due-clock query
  alone, and a sweep that finds nothing due; the calendar is loaded first, as in a running service.
- Statistics: agency_stats and period_stats (what GET /api/v1/hub/stats/agencies and /periods run), hub-wide and
  for one instansi's subtree, per granularity; the median of a few runs after a warm-up.

Every database lives in a schema of its own that is dropped at the end (SQLite: a temporary folder).
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from routing_svc.app import case_context
from routing_svc.cases.context import CaseContext
from routing_svc.cases.handlers import on_submitted
from routing_svc.models import KIT, Node, RoutingRule, SlaClock
from routing_svc.settings import RoutingSettings
from routing_svc.sla.sweep import sweep_once
from routing_svc.stats.periods import Granularity
from routing_svc.stats.schemas import AgencyStatsQuery, PeriodStatsQuery
from routing_svc.stats.service import agency_stats, period_stats
from shared.clock import SystemClock
from shared.db.engine import Database
from shared.db.migrations import upgrade_async
from shared.events import new_event
from shared.events.contracts import CaseSnapshot, ComplaintSubmitted
from shared.http.paging import Page
from shared.logging import configure_logging
from shared.outbox import Outbox
from tests.bench.scale_cases import seed_open_cases, vacuum
from tests.bench.scale_directory import Directory, Shape, Submission, build, complaints
from tests.support.apps import IDENTITY, TEST_ENCRYPTION_KEY, TEST_IDENTITY_KEY
from tests.support.clock import ManualClock

OUTBOX = Outbox(KIT.outbox, source="routing")
"""routing's outbox, as its runtime makes it."""

Progress = Callable[[str], None]

SMALL = Shape(ministries=1, kanwil_per_ministry=2, upt_per_kanwil=2, pemda=1, dinas_per_pemda=2, rules=100)
"""10 nodes, 11 rules."""
NATIONAL = Shape(ministries=100, kanwil_per_ministry=34, upt_per_kanwil=4, pemda=600, dinas_per_pemda=5, rules=20_000)
"""700 instansi and 20,000 units (3,400 Kanwil, 13,600 UPT, 600 inspektorat, 2,400 dinas), 20,000 rules."""
SMOKE = Shape(ministries=2, kanwil_per_ministry=4, upt_per_kanwil=4, pemda=2, dinas_per_pemda=5, rules=50)
"""4 instansi and 50 units, 50 rules."""


@dataclass(frozen=True)
class Sizes:
    national: Shape
    complaints: int
    warmup: int
    open_cases: int
    due: int
    runs: int


FULL = Sizes(national=NATIONAL, complaints=300, warmup=30, open_cases=1_000_000, due=200, runs=3)
TINY = Sizes(national=SMOKE, complaints=10, warmup=2, open_cases=2_000, due=20, runs=1)

SEED = 7
SUBTREE = "KL001"
"""The instansi whose subtree the statistics are also asked for: a ministry with a Kanwil in every province."""


async def run_scale(*, smoke: bool, postgres_url: str | None, progress: Callable[[str], None]) -> dict[str, Any]:
    """Run the scale bench; smoke=True runs tiny sizes in a few seconds (it checks the bench works, not speed)."""
    sizes = TINY if smoke else FULL
    configure_logging("routing", level="WARNING")  # the services log at INFO; lines would drown the bench's output
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="simpul-scale-") as tmp:
        result["routing"] = await routing_bench(sizes, postgres_url, Path(tmp), progress)
        if postgres_url is not None:  # SQLite is what `simpul up` runs on: measured too
            result["routing_sqlite"] = await routing_bench(sizes, None, Path(tmp), progress)
    if postgres_url is None:
        skipped = {"skipped": "needs PostgreSQL"}
        result.update(sweep=skipped, stats=skipped, database=None)
        return result
    sweep, stats = await cases_bench(sizes, postgres_url, progress)
    result.update(sweep=sweep, stats=stats, database="postgresql")
    return result


# Databases ------------------------------------------------------------------------------------------------------


def settings_for(url: str, schema: str | None, tmp: Path) -> RoutingSettings:
    return RoutingSettings(
        database_url=url,
        database_schema=schema,
        data_dir=tmp,
        encryption_keys=SecretStr(TEST_ENCRYPTION_KEY),
        identity_keys=SecretStr(TEST_IDENTITY_KEY),
    )


@asynccontextmanager
async def database(postgres_url: str | None, tmp: Path, name: str) -> AsyncIterator[tuple[str, str | None]]:
    """A migrated routing_svc database: (url, schema); a SQLite file in `tmp`, or a schema dropped afterwards."""
    if postgres_url is None:
        url = f"sqlite+aiosqlite:///{tmp / name}.db"
        await upgrade_async("routing_svc", url)
        yield url, None
        return
    schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    try:
        await upgrade_async("routing_svc", postgres_url, schema)
        yield postgres_url, schema
    finally:
        engine = create_async_engine(postgres_url)
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()


async def seed_directory(db: Database, directory: Directory) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(insert(Node), directory.nodes)
        await conn.execute(insert(RoutingRule), directory.rules)
        if not db.is_sqlite:
            await conn.execute(text("ANALYZE nodes, routing_rules"))


# Routing --------------------------------------------------------------------------------------------------------


def event(sub: Submission, index: int) -> ComplaintSubmitted:
    named = index % 4 != 0
    return ComplaintSubmitted(
        tracking_id=f"SPL-R{index:09d}",
        agency_code=sub.agency_code,
        case=CaseSnapshot.model_validate(
            {
                "title": sub.title,
                "content": sub.content,
                "classification": sub.classification,
                "category": sub.category,
                "region_code": sub.region_code,
                "channel": "web",
                "is_anonymous": not named,
                "is_confidential": False,
                "reporter_name_sealed": IDENTITY.seal("Pelapor Uji Skala") if named else None,
                "submitted_at": datetime.now(UTC),
            }
        ),
    )


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3), "p99_ms": round(p99 * 1000, 3)}


async def route_latency(
    shape: Shape, sizes: Sizes, postgres_url: str | None, tmp: Path, name: str, progress: Progress
) -> dict[str, Any]:
    async with database(postgres_url, tmp, name) as (url, schema):
        db = Database(url, schema=schema)
        try:
            directory = build(shape, datetime.now(UTC))
            await seed_directory(db, directory)
            ctx = case_context(settings_for(url, schema, tmp), SystemClock(), OUTBOX)
            mix = complaints(directory, sizes.warmup + sizes.complaints, SEED)
            progress(f"  routing: {len(mix)} complaints against {len(directory.nodes):,} nodes")
            routed: list[float] = []
            committed: list[float] = []
            for index, sub in enumerate(mix):
                data = event(sub, index)
                envelope = new_event(data, source="intake")
                async with db.session() as session:
                    started = time.perf_counter()
                    await on_submitted(session, envelope, data, ctx)
                    done = time.perf_counter()
                    await session.commit()
                    ended = time.perf_counter()
                if index >= sizes.warmup:
                    routed.append(done - started)
                    committed.append(ended - started)
            with_commit = percentiles(committed)
            return {
                "nodes": len(directory.nodes),
                "rules": len(directory.rules),
                **percentiles(routed),
                "with_commit_p50_ms": with_commit["p50_ms"],
                "with_commit_p99_ms": with_commit["p99_ms"],
                "n": len(routed),
            }
        finally:
            await db.dispose()


async def routing_bench(sizes: Sizes, postgres_url: str | None, tmp: Path, progress: Progress) -> dict[str, Any]:
    kind = "postgresql" if postgres_url else "sqlite"
    progress(f"routing latency on {kind}: a 10-node directory, then a national one")
    small = await route_latency(SMALL, sizes, postgres_url, tmp, "route_small", progress)
    national = await route_latency(sizes.national, sizes, postgres_url, tmp, "route_national", progress)
    return {
        "small": small,
        "national": national,
        "ratio_p50": round(national["p50_ms"] / small["p50_ms"], 3),
        "database": kind,
    }


# Sweep and statistics -------------------------------------------------------------------------------------------


async def due_instant(db: Database, after: datetime, due: int) -> datetime:
    """The instant at which exactly the next `due` clocks (after `after`) are due."""
    async with db.session() as session:
        stmt = (
            select(SlaClock.next_fire_at)
            .where(SlaClock.next_fire_at > after)
            .order_by(SlaClock.next_fire_at)
            .offset(due - 1)
            .limit(1)
        )
        found = (await session.execute(stmt)).scalar_one()
        await session.rollback()
    assert found is not None
    return found


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def median_seconds(call: Callable[[], Awaitable[Any]], runs: int) -> float:
    """The median of `runs` timed calls after one warm-up call."""
    await call()
    return round(statistics.median([await timed(call) for _ in range(runs)]), 4)


async def sweep_bench(db: Database, ctx: CaseContext, sizes: Sizes, open_cases: int) -> dict[str, Any]:
    """One sweep with `sizes.due` clocks due, the due-clock query alone, and a sweep that finds nothing due."""
    now = ctx.clock.now()

    async def count_due() -> int:
        async with db.session() as session:
            found = len((await session.execute(select(SlaClock.id).where(SlaClock.next_fire_at <= now))).all())
            await session.rollback()
        return found

    async def query_due() -> None:
        due_query = select(SlaClock.tracking_id).where(SlaClock.next_fire_at <= now)
        async with db.session() as session:
            await session.execute(due_query.order_by(SlaClock.next_fire_at).limit(sizes.due))
            await session.rollback()

    due = await count_due()
    query_seconds = await median_seconds(query_due, 5)
    started = time.perf_counter()
    swept = await sweep_once(db, ctx, sizes.due)
    seconds = time.perf_counter() - started
    idle_seconds = await timed(lambda: sweep_once(db, ctx, sizes.due))
    return {
        "open_cases": open_cases,
        "due": due,
        "swept": swept,
        "seconds": round(seconds, 4),
        "query_seconds": query_seconds,
        "idle_seconds": round(idle_seconds, 4),
        "left_due": await count_due(),
    }


def stats_queries(tz: ZoneInfo, now: datetime) -> dict[str, Callable[[AsyncSession], Awaitable[Any]]]:
    def agencies(parent: str | None) -> Callable[[AsyncSession], Awaitable[Any]]:
        async def call(session: AsyncSession) -> Any:
            return await agency_stats(
                session, AgencyStatsQuery(parent_code=parent), Page(limit=50, offset=0), tz=tz, now=now
            )

        return call

    def periods(root: str | None, granularity: Granularity) -> Callable[[AsyncSession], Awaitable[Any]]:
        async def call(session: AsyncSession) -> Any:
            return await period_stats(
                session, PeriodStatsQuery(granularity=granularity, agency_code=root), tz=tz, now=now
            )

        return call

    return {
        "agencies": agencies(None),
        "agencies_subtree": agencies(SUBTREE),
        "periods_day": periods(None, Granularity.day),
        "periods_week": periods(None, Granularity.week),
        "periods_month": periods(None, Granularity.month),
        "periods_month_subtree": periods(SUBTREE, Granularity.month),
    }


async def stats_bench(db: Database, ctx: CaseContext, sizes: Sizes, open_cases: int, progress: Progress) -> dict:
    tz = ZoneInfo(ctx.sla.hub_timezone)
    queries: dict[str, float] = {}
    for name, query in stats_queries(tz, ctx.clock.now()).items():

        async def call(query: Callable[[AsyncSession], Awaitable[Any]] = query) -> None:
            async with db.session() as session:
                await query(session)
                await session.rollback()

        queries[name] = await median_seconds(call, sizes.runs)
        progress(f"  stats: {name} {queries[name]:.3f} s")
    return {"open_cases": open_cases, "runs": sizes.runs, "queries": queries}


async def cases_bench(sizes: Sizes, postgres_url: str, progress: Progress) -> tuple[dict[str, Any], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="simpul-scale-") as tmp:
        async with database(postgres_url, Path(tmp), "cases") as (url, schema):
            db = Database(url, schema=schema)
            try:
                seeded_at = datetime.now(UTC)
                await seed_directory(db, build(sizes.national, seeded_at))
                progress(f"sweep and statistics on postgresql: seeding {sizes.open_cases:,} open cases")
                started = time.perf_counter()
                stored_name = stored(settings_for(url, schema, Path(tmp)), IDENTITY.seal("Pelapor Uji Skala"))
                async with db.engine.begin() as conn:
                    await seed_open_cases(conn, sizes.open_cases, seeded_at, stored_name, progress)
                progress("  seeding: VACUUM ANALYZE")
                await vacuum(db.engine)
                progress(f"  seeded in {time.perf_counter() - started:.0f} s")
                clock = ManualClock(await due_instant(db, seeded_at, sizes.due))
                ctx = case_context(settings_for(url, schema, Path(tmp)), clock, OUTBOX)
                ctx.sla.rules.calendar.add_working_days(clock.now(), 1, ctx.sla.hub_timezone)  # loaded, as in a service
                progress(f"  sweep: {sizes.due} clocks due")
                sweep = await sweep_bench(db, ctx, sizes, sizes.open_cases)
                progress(f"  sweep: {sweep['seconds']:.3f} s")
                stats = await stats_bench(db, ctx, sizes, sizes.open_cases, progress)
                return sweep, stats
            finally:
                await db.dispose()


def stored(settings: RoutingSettings, sealed_for_event: str) -> str:
    """A reporter's name as routing stores it (under its own keys), from the form an event carries it in."""
    name = case_context(settings, SystemClock(), OUTBOX).names.from_event(sealed_for_event)
    assert name is not None
    return name
