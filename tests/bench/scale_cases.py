"""Open cases for the scale bench, seeded on PostgreSQL server-side (INSERT ... SELECT generate_series): each case
with its history, its stays with nodes (assignments) and its SLA clocks, as routing_svc would have left them.

Every case is open: 5% submitted (in triage), 1% postponed, 4% answered, 30% dispositioned, 60% in progress;
submitted over the past year (postponed and answered ones in the last 12 days, since their reporter-response clock
would have run out otherwise). Stays go to nodes all over the directory; one in ten was forwarded once. The clocks
are planned with calendar days for working days (x 1.4) and are as the sweep would have left them at `now`: what was
due has fired (warned, breached, escalated), and `next_fire_at` is the next instant the sweep must look, or NULL.
Last, the facts routing_svc keeps for the hub-wide statistics (routing_svc/stats/facts.py) are computed from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from routing_svc.stats.facts import refresh_statements
from shared.domain import Timezone

HUB_TZ = Timezone.WIB.value
DAY = "interval '1 day'"
HOUR = "interval '1 hour'"

SEED = f"""
CREATE TEMP TABLE bench_seed AS
WITH base AS (
    SELECT i,
        CASE WHEN i % 100 < 5 THEN 'submitted' WHEN i % 100 = 5 THEN 'postponed'
             WHEN i % 100 < 10 THEN 'answered' WHEN i % 100 < 40 THEN 'dispositioned'
             ELSE 'in_progress' END AS status,
        random() AS r_age, random() AS r_ver, random() AS r_move, random() AS r_ack, random() AS r_ans,
        random() AS r_code, random() AS r_prev, random() AS r_cls, random() AS r_fu
    FROM generate_series(1, :n) AS i
), aged AS (
    SELECT b.*,
        r_age * CASE WHEN status IN ('postponed', 'answered') THEN 12 ELSE 365 END * {DAY} AS age,
        status IN ('dispositioned', 'in_progress', 'answered') AS held,
        status IN ('dispositioned', 'in_progress', 'answered') AND r_prev < 0.1 AS moved,
        (SELECT count(*) FROM bench_codes) AS codes
    FROM base b
), timed AS (
    SELECT a.*,
        CAST(:now AS timestamptz) - age AS sub,
        CAST(:now AS timestamptz) - age + least(age * 0.1, {HOUR} + r_ver * 71 * {HOUR}) AS ver,
        CAST(:now AS timestamptz) - age + least(age * 0.1, r_ver * 24 * {HOUR}) AS post
    FROM aged a
), moved AS (
    SELECT t.*,
        CASE WHEN moved THEN ver + least(age * 0.05, r_move * 48 * {HOUR}) ELSE ver END AS stay
    FROM timed t
), acked AS (
    SELECT m.*, stay + least(age * 0.2, {HOUR} + r_ack * 239 * {HOUR}) AS ack FROM moved m
)
SELECT
    x.i,
    'SPL-B' || lpad(x.i::text, 10, '0') AS tid,
    x.status, x.held, x.moved, x.sub,
    CASE WHEN x.status = 'postponed' THEN x.post END AS post,
    CASE WHEN x.held THEN x.ver END AS ver,
    CASE WHEN x.held THEN x.stay END AS stay,
    CASE WHEN x.status IN ('in_progress', 'answered') THEN x.ack END AS ack,
    CASE WHEN x.status = 'answered' THEN x.ack + least(x.age * 0.3, x.r_ans * 20 * {DAY}) END AS ans,
    CASE WHEN x.status = 'in_progress' AND x.r_fu < 0.5 THEN x.ack + least(x.age * 0.1, x.r_fu * 96 * {HOUR})
         END AS progress,
    CASE WHEN x.r_cls < 0.7 THEN 'pengaduan' WHEN x.r_cls < 0.85 THEN 'aspirasi'
         WHEN x.r_cls < 0.98 THEN 'permintaan_informasi' ELSE 'wbs' END AS classification,
    CASE WHEN x.r_cls < 0.7 OR x.r_cls >= 0.98 THEN 14 ELSE 5 END AS resolution_days,
    CASE WHEN x.held THEN cur.code END AS agency,
    CASE WHEN x.held THEN cur.timezone END AS agency_tz,
    CASE WHEN x.moved THEN prev.code END AS prev_agency,
    CASE WHEN x.moved THEN prev.timezone END AS prev_tz
FROM acked x
JOIN bench_codes cur ON cur.n = 1 + floor(x.r_code * x.codes)::int
JOIN bench_codes prev ON prev.n = 1 + floor(least(x.r_prev * 10, 0.999999) * x.codes)::int
"""

CODES = """
CREATE TEMP TABLE bench_codes AS
SELECT row_number() OVER (ORDER BY code) AS n, code, timezone FROM nodes
"""

HISTORY = """
INSERT INTO case_history
    (tracking_id, at, action, from_status, to_status, actor, agency_code, route_kind, rule_id, reason_code, reason,
     case_version)
SELECT tid, sub, 'submit', NULL, 'submitted', 'intake:web', NULL, NULL, NULL, NULL, NULL, 0 FROM bench_seed
UNION ALL
SELECT tid, post, 'postpone', 'submitted', 'postponed', 'key:coordinator', NULL, NULL, NULL, NULL,
       'mohon lengkapi lokasi kejadian', 1
FROM bench_seed WHERE status = 'postponed'
UNION ALL
SELECT tid, ver, 'dispose', 'submitted', 'dispositioned', 'routing', coalesce(prev_agency, agency), 'rule', '1',
       NULL, 'rule 1', 1
FROM bench_seed WHERE held
UNION ALL
SELECT tid, stay, 'forward', 'dispositioned', 'dispositioned', 'agency:' || prev_agency, agency, 'forward', NULL,
       NULL, 'bukan wewenang', 2
FROM bench_seed WHERE moved
UNION ALL
SELECT tid, ack, 'acknowledge', 'dispositioned', 'in_progress', 'agency:' || agency, agency, NULL, NULL, NULL, NULL,
       2 + moved::int
FROM bench_seed WHERE ack IS NOT NULL
UNION ALL
SELECT tid, ans, 'answer', 'in_progress', 'answered', 'agency:' || agency, agency, NULL, NULL, NULL,
       'final follow-up', 3 + moved::int
FROM bench_seed WHERE ans IS NOT NULL
"""

ASSIGNMENTS = """
INSERT INTO assignments
    (tracking_id, agency_code, route_kind, dispositioned_at, acknowledged_at, first_followup_at,
     first_response_working_days, ended_at)
SELECT tid, prev_agency, 'rule', ver, NULL, NULL, NULL, stay FROM bench_seed WHERE moved
UNION ALL
SELECT tid, agency, CASE WHEN moved THEN 'forward' ELSE 'rule' END, stay, ack, coalesce(ans, progress),
       extract(epoch FROM least(ack, coalesce(ans, progress)) - stay) / 86400 / 1.4, NULL
FROM bench_seed WHERE held
"""

CASES = """
INSERT INTO cases
    (tracking_id, status, classification, category, region_code, title, content, channel, incident_date,
     is_anonymous, is_confidential, reporter_name_sealed, chosen_agency_code, accused_agency_code, agency_code,
     case_version, forward_count, verified_at, rating, rated_at, berkadar_pengawasan, escalation_level,
     clocks_version, submitted_at, updated_at)
SELECT s.tid, s.status, s.classification,
    CASE WHEN s.i % 7 = 0 THEN NULL ELSE 'kategori ' || (s.i % 40) END,
    (ARRAY['11', '31', '32', '33', '35', '51', '64', '73', '94'])[1 + s.i % 9] || lpad((1 + s.i % 18)::text, 2, '0'),
    'Laporan warga ' || s.i, 'Isi laporan warga nomor ' || s.i || ' tentang layanan publik yang lambat.',
    'web', NULL, s.i % 4 = 0, s.i % 50 = 0, CASE WHEN s.i % 4 = 0 THEN NULL ELSE :sealed END, NULL,
    CASE WHEN s.classification = 'wbs' THEN s.agency END, s.agency,
    CASE s.status WHEN 'submitted' THEN 0 WHEN 'postponed' THEN 1 WHEN 'dispositioned' THEN 1
         WHEN 'in_progress' THEN 2 ELSE 3 END + s.moved::int,
    s.moved::int, CASE WHEN s.held THEN s.ver END, NULL, NULL, false, coalesce(l.level, 0),
    CASE s.status WHEN 'submitted' THEN 1 WHEN 'postponed' THEN 2 WHEN 'dispositioned' THEN 2
         WHEN 'in_progress' THEN 3 ELSE 4 END + s.moved::int,
    s.sub, greatest(s.sub, s.post, s.ver, s.stay, s.ack, s.ans)
FROM bench_seed s
LEFT JOIN (SELECT tracking_id, max(escalation_level) AS level FROM bench_clocks GROUP BY tracking_id) l
    ON l.tracking_id = s.tid
"""

CLOCK_COLUMNS = (
    "tracking_id, kind, agency_code, timezone, working_days, policy_id, started_at, due_at, warn_at, oversight_at, "
    "paused_at, paused_days, stopped_at, state, warned_at, breached_at, escalation_level, recompute, next_fire_at"
)


@dataclass(frozen=True)
class ClockSet:
    """One kind of clock for the cases of bench_seed that match `where`; SQL expressions over bench_seed."""

    kind: str
    where: str
    started: str
    agency: str
    tz: str
    working_days: str
    stopped: str = "NULL"
    paused: str = "NULL"


CLOCK_SETS = (
    ClockSet(
        "verification",
        "true",
        "sub",
        "NULL",
        f"'{HUB_TZ}'",
        "3",
        stopped="CASE WHEN held THEN ver END",
        paused="CASE WHEN status = 'postponed' THEN post END",
    ),
    ClockSet("first_response", "moved", "ver", "prev_agency", "prev_tz", "5", stopped="stay"),
    ClockSet("first_response", "held", "stay", "agency", "agency_tz", "5", stopped="ack"),
    ClockSet("resolution", "held", "ver", "agency", "agency_tz", "resolution_days", stopped="ans"),
    ClockSet("reporter_response", "status = 'answered'", "ans", "agency", "agency_tz", "10"),
    ClockSet("reporter_response", "status = 'postponed'", "post", "NULL", f"'{HUB_TZ}'", "10"),
)

LEVELS = {
    "verification": "CASE WHEN due <= as_of THEN 3 ELSE 0 END",
    "first_response": "CASE WHEN r3 <= as_of THEN 3 WHEN r2 <= as_of THEN 2 WHEN due <= as_of THEN 1 ELSE 0 END",
    "resolution": "CASE WHEN r4 <= as_of THEN 4 WHEN r3 <= as_of THEN 3 WHEN r2 <= as_of THEN 2 "
    "WHEN due <= as_of THEN 1 ELSE 0 END",
    "reporter_response": "0",
}
NEXT_RUNG = {
    "verification": "CASE WHEN due > as_of THEN due END",
    "first_response": "CASE WHEN due > as_of THEN due WHEN r2 > as_of THEN r2 WHEN r3 > as_of THEN r3 END",
    "resolution": "CASE WHEN due > as_of THEN due WHEN r2 > as_of THEN r2 WHEN r3 > as_of THEN r3 "
    "WHEN r4 > as_of THEN r4 END",
    "reporter_response": "NULL::timestamptz",
}


def clock_select(c: ClockSet, set_no: int) -> str:
    """The clocks of one set as the sweep would have left them at :now (or when they stopped or paused)."""
    acting = c.kind == "reporter_response"
    breached = "false" if acting else "due <= as_of"
    return f"""
SELECT tid AS tracking_id, '{c.kind}'::varchar AS kind, agency::varchar AS agency_code, tz::varchar AS timezone,
    wd AS working_days, NULL::int AS policy_id, started AS started_at, due AS due_at, warn AS warn_at,
    {"started + 84 * " + DAY if c.kind == "resolution" else "NULL::timestamptz"} AS oversight_at,
    paused AS paused_at, 0.0::float AS paused_days, stopped AS stopped_at,
    (CASE WHEN stopped IS NOT NULL THEN CASE WHEN due < stopped THEN 'breached' ELSE 'met' END
          WHEN {breached} THEN 'breached' ELSE 'running' END)::varchar AS state,
    CASE WHEN warn <= as_of THEN warn END AS warned_at,
    CASE WHEN {breached} THEN due END AS breached_at,
    {LEVELS[c.kind]} AS escalation_level, false AS recompute,
    CASE WHEN stopped IS NULL AND paused IS NULL THEN least(
        CASE WHEN warn > as_of THEN warn END,
        CASE WHEN {"true" if acting else "due > as_of"} THEN due END,
        {NEXT_RUNG[c.kind]}) END AS next_fire_at,
    {set_no} AS set_no
FROM (
    SELECT p.*, due + 7 * {DAY} AS r2, due + 14 * {DAY} AS r3, greatest(due + 14 * {DAY}, started + 84 * {DAY}) AS r4
    FROM (
        SELECT q.*, started + wd * 1.4 * {DAY} AS due, started + wd * 1.4 * 0.8 * {DAY} AS warn,
            coalesce(stopped, paused, CAST(:now AS timestamptz)) AS as_of
        FROM (
            SELECT tid, {c.agency} AS agency, {c.tz} AS tz, {c.working_days} AS wd, {c.started} AS started,
                ({c.stopped})::timestamptz AS stopped, ({c.paused})::timestamptz AS paused
            FROM bench_seed WHERE {c.where}
        ) q
    ) p
) r"""


CLOCKS = "CREATE TEMP TABLE bench_clocks AS\n" + "\nUNION ALL\n".join(
    clock_select(c, i) for i, c in enumerate(CLOCK_SETS)
)
INSERT_CLOCKS = (
    f"INSERT INTO sla_clocks ({CLOCK_COLUMNS}) SELECT {CLOCK_COLUMNS} FROM bench_clocks ORDER BY started_at, set_no"
)
"""Oldest first, as the service would have numbered them."""


SEEDED_TABLES = ("cases", "case_history", "assignments", "sla_clocks")
FACT_TABLES = ("case_facts", "stay_facts")


async def set_aside(conn: AsyncConnection, tables: tuple[str, ...]) -> list[str]:
    """Drop the tables' foreign keys and the indexes that back no constraint; returns the statements that put them
    back. Checking and indexing a million rows at once afterwards is much faster than row by row as they go in."""
    here = "to_regnamespace(current_schema())"
    foreign_keys = await conn.execute(
        text(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            f"WHERE c.contype = 'f' AND c.connamespace = {here} AND c.conrelid::regclass::text = ANY(:tables)"
        ),
        {"tables": list(tables)},
    )
    indexes = await conn.execute(
        text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(:tables) AND NOT EXISTS "
            f"(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.connamespace = {here})"
        ),
        {"tables": list(tables)},
    )
    restore: list[str] = []
    for table, name, definition in foreign_keys.all():
        await conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for name, definition in indexes.all():
        await conn.execute(text(f'DROP INDEX "{name}"'))
        restore.append(definition)
    return restore


async def seed_open_cases(
    conn: AsyncConnection, n: int, now: datetime, sealed_name: str, progress: Callable[[str], None]
) -> None:
    """Seed `n` open cases into the (migrated, directory-holding) schema `conn` works in (then see `vacuum`)."""
    await conn.execute(text("SELECT setseed(0.42)"))
    steps: tuple[tuple[str, str, dict[str, object]], ...] = (
        ("numbering the directory", CODES, {}),
        (f"drawing {n:,} cases", SEED, {"n": n, "now": now}),
        ("planning their SLA clocks", CLOCKS, {"now": now}),
        ("writing the cases", CASES, {"sealed": sealed_name}),
        ("writing their history", HISTORY, {}),
        ("writing their stays with nodes (assignments)", ASSIGNMENTS, {}),
        ("writing their SLA clocks", INSERT_CLOCKS, {}),
    )
    restore = await set_aside(conn, SEEDED_TABLES)
    for what, sql, params in steps:
        progress(f"  seeding: {what}")
        await conn.execute(text(sql), params)
    progress("  seeding: checking the foreign keys and building the indexes again")
    for statement in restore:
        await conn.execute(text(statement))
    progress("  seeding: the facts the hub-wide statistics are counted from")
    await conn.execute(text(f"ANALYZE {', '.join(SEEDED_TABLES)}"))  # their plans join what was just written
    for statement in refresh_statements(every=True):  # as routing_svc keeps them, and its migration computes them
        await conn.execute(statement)
    for table in ("bench_seed", "bench_clocks", "bench_codes"):
        await conn.execute(text(f"DROP TABLE {table}"))


async def vacuum(engine: AsyncEngine) -> None:
    """VACUUM ANALYZE the seeded tables, as autovacuum soon would after such a load (statistics, visibility map)."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f"VACUUM ANALYZE {', '.join(SEEDED_TABLES + FACT_TABLES)}"))
