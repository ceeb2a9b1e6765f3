"""The hub's statistics against a hand-counted fixture: per node with its subtree, per period, and as CSV.

The tree: KEMENKUMHAM > KANWIL-JATIM > {LAPAS-SBY, RUTAN-MLG}, and a second instansi PEMKOT-SBY; all in WIB.
Eleven cases are driven through events and decisions on a ManualClock (times are WIB, 2026; F = the node's
first-response clock, 5 working days; R = the resolution clock, 14 working days, which follows the case):

c1  Feb 2 09:00 to LAPAS; ack 15:00 (0.25 wd, 6 h); final follow-up Feb 4; rated 5 Feb 5.        F met, R met
c2  Feb 2 10:00 to KANWIL; delegated to RUTAN Feb 3 10:00 (KANWIL never responds: no time; its F met by the
    delegation); RUTAN progress follow-up Feb 4 10:00 (1 wd, 24 h); final Feb 6; rated 3 Feb 9.   F(K) F(R) R met
c3  Feb 3 09:00 to LAPAS; forwarded to PEMKOT 12:00 (no response time; F(LAPAS) met); PEMKOT acks Feb 4 12:00
    (1 wd, 24 h), answers Feb 5, rated 2 Feb 6 (held by PEMKOT).                          F(L) met; F(P), R(P) met
c10 Feb 4 06:00 WIB (Feb 3 in UTC) to RUTAN; ack 07:00 (1/24 wd, 1 h); no answer: R due Feb 26, now overdue.
                                                                                       F met, R breached (running)
c11 Feb 5 09:00 triage, a coordinator disposes to KEMENKUMHAM; delegated to KANWIL Mar 3 10:00 (F(KEMENKUMHAM)
    due Feb 12: stopped late); KANWIL never responds: F(K) due Mar 10 and R due Feb 27, both running late.
                                                                             F(KEMENKUMHAM), F(K), R(K) breached
c4  Mar 2 09:00 to RUTAN; nothing: F due Mar 9, running late (overdue); R due Mar 27 (undecided).      F breached
c5  Mar 2 09:00 to LAPAS; ack Mar 3 09:00 (1 wd, 24 h); R running, due Mar 27.             F met, R undecided
c6  Mar 2 11:00 to KANWIL; ack 13:00 (1/12 wd, 2 h); delegated to LAPAS Mar 4 11:00; LAPAS final follow-up
    Mar 5 11:00 (1 wd, 24 h); rated 4 Mar 6.                                          F(K), F(L), R(L) met
c7  Mar 2 14:00 to PEMKOT; forwarded to KANWIL 16:00 (F(PEMKOT) met); KANWIL acks Mar 11 09:00, late
    (6.708 wd, 209 h); R(K) running, due Mar 27.                              F(P) met, F(K) breached
c8  Mar 3 09:00 to LAPAS; progress follow-up 12:00 (0.125 wd, 3 h); withdrawn Mar 4 09:00: R stopped in time by
    the withdrawal is not counted.                                                                    F met
c9  Mar 4 09:00 triage, rejected by a coordinator: never received by anyone.

The statistics are read at Thu Mar 12 09:00 WIB.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from routing_svc.app import create_app
from routing_svc.settings import RoutingSettings
from routing_svc.sla.sweep import sweep_once
from shared.events.contracts import (
    AgencyAcknowledged,
    AgencyDelegated,
    AgencyForwardRequested,
    FollowupPosted,
    ReporterRated,
    ReporterWithdrew,
)
from tests.routing_svc.conftest import ADMIN, Hub
from tests.support.apps import running_service, service_settings, test_bus
from tests.support.clock import ManualClock
from tests.support.databases import TestDatabase

WIB = ZoneInfo("Asia/Jakarta")
AGENCIES = "/api/v1/hub/stats/agencies"
PERIODS = "/api/v1/hub/stats/periods"

FIELDS = (
    "received",
    "followed_up",
    "completed",
    "overdue",
    "median_first_response_working_days",
    "median_first_response_hours",
    "sla_met",
    "sla_breached",
    "sla_compliance",
    "rated",
    "mean_rating",
)

# All time. Response times in working days: c1 .25, c2 1 (RUTAN), c3 1 (PEMKOT), c10 .0417, c5 1, c6 .0833 (KANWIL),
# c6 1 (LAPAS), c7 6.708, c8 .125; hours 6, 24, 24, 1, 24, 2, 24, 209, 3.
ALL_TIME = {
    # c1 c2 c3 c10 c11 c4 c5 c6 c7 c8 | followed: c1 c2 c6 c8 | completed: c1 c2 c6 | overdue: c10 c11 c4
    # days .0417 .0833 .125 .25 | 1 1 1 6.708 -> (.25 + 1) / 2; hours 1 2 3 6 | 24 24 24 209 -> 15
    # met: c1 2, c2 3, c3 1, c10 1, c5 1, c6 3, c8 1 = 12; breached: c10 R, c11 3, c4 F, c7 F(K) = 6 -> 12/18
    # rated: c1 5, c2 3, c6 4 -> 4
    "KEMENKUMHAM": (10, 4, 3, 3, 0.625, 15.0, 12, 6, 0.6667, 3, 4.0),
    # the same cases (c11 enters with its delegation), without F(KEMENKUMHAM) of c11: 12 met, 5 breached
    "KANWIL-JATIM": (10, 4, 3, 3, 0.625, 15.0, 12, 5, 0.7059, 3, 4.0),
    # c1 c3 c5 c6 c8 | followed c1 c6 c8 | completed c1 c6 | days .125 .25 1 1 -> .625; hours 3 6 24 24 -> 15
    # met: c1 F R, c3 F, c5 F, c6 F R, c8 F = 7 (c8's R, stopped by the withdrawal, is not counted) | 5 4 -> 4.5
    "LAPAS-SBY": (5, 3, 2, 0, 0.625, 15.0, 7, 0, 1.0, 2, 4.5),
    # c2 c10 c4 | followed c2 | completed c2 | overdue c10 c4 | days .0417 1 -> .521; hours 1 24 -> 12.5
    # met: c2 F R, c10 F; breached: c10 R, c4 F -> 3/5 | rated c2 3
    "RUTAN-MLG": (3, 1, 1, 2, 0.521, 12.5, 3, 2, 0.6, 1, 3.0),
    # c3 c7 | followed c3 | completed c3 | days: c3 1 (c7 none) | met: c3 F R, c7 F | rated c3 2
    "PEMKOT-SBY": (2, 1, 1, 0, 1.0, 24.0, 3, 0, 1.0, 1, 2.0),
}
FEBRUARY = {
    # c1 c2 c3 c10 c11 | followed c1 c2 | completed c1 c2 | overdue c10 c11 | days .0417 .25 1 -> .25; hours 1 6 24
    # met: c1 2, c2 3, c3 1, c10 1 = 7; breached: c10 R, c11 3 = 4 -> 7/11 | rated 5 3 -> 4
    "KEMENKUMHAM": (5, 2, 2, 2, 0.25, 6.0, 7, 4, 0.6364, 2, 4.0),
    # c1 c2 c3 c10 (c11 enters KANWIL's subtree in March) | breached: c10 R -> 7/8
    "KANWIL-JATIM": (4, 2, 2, 1, 0.25, 6.0, 7, 1, 0.875, 2, 4.0),
    "LAPAS-SBY": (2, 1, 1, 0, 0.25, 6.0, 3, 0, 1.0, 1, 5.0),  # c1 c3
    "RUTAN-MLG": (2, 1, 1, 1, 0.521, 12.5, 3, 1, 0.75, 1, 3.0),  # c2 c10
    "PEMKOT-SBY": (1, 1, 1, 0, 1.0, 24.0, 2, 0, 1.0, 1, 2.0),  # c3
}
MARCH = {
    # c4 c5 c6 c7 c8 | followed c6 c8 | completed c6 | overdue c4 | days .0833 .125 1 1 6.708 -> 1; hours 2 3 24 24 209
    # met: c5 1, c6 3, c8 1 = 5; breached: c4 F, c7 F(K) = 2 -> 5/7 | rated c6 4
    "KEMENKUMHAM": (5, 2, 1, 1, 1.0, 24.0, 5, 2, 0.7143, 1, 4.0),
    # + c11: overdue, F(K) and R(K) breached -> 5/9
    "KANWIL-JATIM": (6, 2, 1, 2, 1.0, 24.0, 5, 4, 0.5556, 1, 4.0),
    # c5 c6 c8 | days 1 1 .125 -> 1 | met: c5 F, c6 F R, c8 F
    "LAPAS-SBY": (3, 2, 1, 0, 1.0, 24.0, 4, 0, 1.0, 1, 4.0),
    "RUTAN-MLG": (1, 0, 0, 1, None, None, 0, 1, 0.0, 0, None),  # c4
    "PEMKOT-SBY": (1, 0, 0, 0, None, None, 1, 0, 1.0, 0, None),  # c7: F met by the forward
}
HUB_BY_MONTH = {
    "2026-01": (0, 0, 0, 0, None, None, 0, 0, None, 0, None),
    # KEMENKUMHAM's February + c3 with PEMKOT (followed, completed, 1 wd / 24 h, F R met, rated 2):
    # days .0417 .25 1 1 -> .625, hours 1 6 24 24 -> 15; 9 met 4 breached; ratings 5 3 2
    "2026-02": (5, 3, 3, 2, 0.625, 15.0, 9, 4, 0.6923, 3, 3.33),
    # KEMENKUMHAM's March + c7's F(PEMKOT) met: 6/8
    "2026-03": (5, 2, 1, 1, 1.0, 24.0, 6, 2, 0.75, 1, 4.0),
}
# The whole quarter: 10 cases, 9 response times (.0417 .0833 .125 .25 1 1 1 1 6.708 -> 1; hours -> 24), 15/21.
HUB_Q1 = (10, 5, 4, 3, 1.0, 24.0, 15, 6, 0.7143, 4, 3.5)


def wib(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A WIB wall-clock time of 2026, as UTC (as the services stamp their events)."""
    return datetime(2026, month, day, hour, minute, tzinfo=WIB).astimezone(UTC)


def figures(row: dict[str, Any]) -> tuple:
    return tuple(row[f] for f in FIELDS)


@pytest.fixture
async def stats_hub(database: TestDatabase, natsd: Any, tmp_path: Path) -> AsyncIterator[tuple[Hub, ManualClock]]:
    """routing_svc on a ManualClock; the SLA sweep runs once at start and then only when a test calls it."""
    settings = service_settings(RoutingSettings, database, natsd, tmp_path, sla_sweep_interval=3600)
    clock = ManualClock(wib(2, 2, 8))
    async with (
        running_service("routing_svc", create_app, settings, clock=clock) as (app, client),
        test_bus(natsd) as bus,
    ):
        yield Hub(app=app, client=client, bus=bus, settings=settings), clock


class Driver:
    """Moves the clock to each event's time and has the hub process the event."""

    def __init__(self, hub: Hub, clock: ManualClock) -> None:
        self.hub, self.clock = hub, clock

    async def submit(self, when: datetime, agency_code: str | None = None, channel: str = "web") -> str:
        self.clock.set(when)
        return await self.hub.submit(agency_code=agency_code, channel=channel)

    async def dispose(self, when: datetime, tid: str, agency_code: str) -> None:
        self.clock.set(when)
        body = {"action": "dispose", "agency_code": agency_code}
        await self.hub.ok("POST", f"/api/v1/hub/complaints/{tid}/decisions", 200, json=body)

    async def reject(self, when: datetime, tid: str) -> None:
        self.clock.set(when)
        await self.hub.ok("POST", f"/api/v1/hub/complaints/{tid}/decisions", 200, json={"action": "reject"})

    async def ack(self, when: datetime, tid: str, code: str) -> None:
        self.clock.set(when)
        await self.hub.publish_and_wait(
            AgencyAcknowledged(tracking_id=tid, agency_code=code, actor=f"agency:{code}", acknowledged_at=when)
        )

    async def followup(self, when: datetime, tid: str, code: str, *, final: bool) -> None:
        self.clock.set(when)
        await self.hub.publish_and_wait(
            FollowupPosted(
                tracking_id=tid,
                followup_id=f"fu-{tid}-{when.isoformat()}",
                agency_code=code,
                content="Sudah ditangani." if final else "Sedang diperiksa.",
                is_final=final,
                actor=f"agency:{code}",
                posted_at=when,
            )
        )

    async def delegate(self, when: datetime, tid: str, from_code: str, to_code: str) -> None:
        self.clock.set(when)
        await self.hub.publish_and_wait(
            AgencyDelegated(
                tracking_id=tid, from_agency_code=from_code, agency_code=to_code, actor="agency", delegated_at=when
            )
        )

    async def forward(self, when: datetime, tid: str, code: str, suggested: str) -> None:
        self.clock.set(when)
        await self.hub.publish_and_wait(
            AgencyForwardRequested(
                tracking_id=tid,
                agency_code=code,
                reason="Bukan wewenang kami",
                suggested_agency_code=suggested,
                actor=f"agency:{code}",
                requested_at=when,
            )
        )

    async def rate(self, when: datetime, tid: str, score: int) -> None:
        self.clock.set(when)
        await self.hub.publish_and_wait(ReporterRated(tracking_id=tid, score=score, rated_at=when))

    async def withdraw(self, when: datetime, tid: str) -> None:
        self.clock.set(when)
        await self.hub.publish_and_wait(ReporterWithdrew(tracking_id=tid, withdrawn_at=when))


async def drive_fixture(hub: Hub, clock: ManualClock) -> dict[str, str]:
    """Build the tree and drive the cases of the module docstring, in time order; the clock ends at Mar 12 09:00."""
    await hub.node("KEMENKUMHAM")
    await hub.node("KANWIL-JATIM", "kanwil", "KEMENKUMHAM")
    await hub.node("LAPAS-SBY", "upt", "KANWIL-JATIM")
    await hub.node("RUTAN-MLG", "upt", "KANWIL-JATIM")
    await hub.node("PEMKOT-SBY", name="=Pemkot Surabaya")
    d = Driver(hub, clock)
    c: dict[str, str] = {}
    L, R, K, P, M = "LAPAS-SBY", "RUTAN-MLG", "KANWIL-JATIM", "PEMKOT-SBY", "KEMENKUMHAM"

    c["c1"] = await d.submit(wib(2, 2, 9), L)
    c["c2"] = await d.submit(wib(2, 2, 10), K)
    await d.ack(wib(2, 2, 15), c["c1"], L)
    c["c3"] = await d.submit(wib(2, 3, 9), L)
    await d.delegate(wib(2, 3, 10), c["c2"], K, R)
    await d.forward(wib(2, 3, 12), c["c3"], L, P)
    c["c10"] = await d.submit(wib(2, 4, 6), R)
    await d.ack(wib(2, 4, 7), c["c10"], R)
    await d.followup(wib(2, 4, 9), c["c1"], L, final=True)
    await d.followup(wib(2, 4, 10), c["c2"], R, final=False)
    await d.ack(wib(2, 4, 12), c["c3"], P)
    await d.rate(wib(2, 5, 9), c["c1"], 5)
    c["c11"] = await d.submit(wib(2, 5, 9))
    await d.dispose(wib(2, 5, 9), c["c11"], M)
    await d.followup(wib(2, 5, 12), c["c3"], P, final=True)
    await d.followup(wib(2, 6, 10), c["c2"], R, final=True)
    await d.rate(wib(2, 6, 12), c["c3"], 2)
    await d.rate(wib(2, 9, 10), c["c2"], 3)

    c["c4"] = await d.submit(wib(3, 2, 9), R)
    c["c5"] = await d.submit(wib(3, 2, 9), L)
    c["c6"] = await d.submit(wib(3, 2, 11), K)
    await d.ack(wib(3, 2, 13), c["c6"], K)
    c["c7"] = await d.submit(wib(3, 2, 14), P)
    await d.forward(wib(3, 2, 16), c["c7"], P, K)
    await d.ack(wib(3, 3, 9), c["c5"], L)
    c["c8"] = await d.submit(wib(3, 3, 9), L)
    await d.delegate(wib(3, 3, 10), c["c11"], M, K)
    await d.followup(wib(3, 3, 12), c["c8"], L, final=False)
    await d.withdraw(wib(3, 4, 9), c["c8"])
    c["c9"] = await d.submit(wib(3, 4, 9))
    await d.reject(wib(3, 4, 9), c["c9"])
    await d.delegate(wib(3, 4, 11), c["c6"], K, L)
    await d.followup(wib(3, 5, 11), c["c6"], L, final=True)
    await d.rate(wib(3, 6, 11), c["c6"], 4)
    await d.ack(wib(3, 11, 9), c["c7"], K)
    clock.set(wib(3, 12, 9))
    return c


async def _agencies(hub: Hub, **params: Any) -> dict[str, dict[str, Any]]:
    body = await hub.ok("GET", AGENCIES, 200, params=params)
    return {row["agency_code"]: row for row in body["items"]}


async def _periods(hub: Hub, **params: Any) -> list[dict[str, Any]]:
    return list((await hub.ok("GET", PERIODS, 200, params=params))["items"])


async def test_statistics_match_the_hand_counted_fixture(stats_hub: tuple[Hub, ManualClock]) -> None:
    hub, clock = stats_hub
    cases = await drive_fixture(hub, clock)
    # The fixture is what the docstring says (a sample of the states the counts rest on).
    assert (await hub.case(cases["c3"]))["agency_code"] == "PEMKOT-SBY"
    assert (await hub.case(cases["c8"]))["status"] == "rejected"
    c11 = await hub.case(cases["c11"])
    assert c11["agency_code"] == "KANWIL-JATIM"
    assert [(k["name"], k["agency_code"], k["state"]) for k in c11["clocks"] if k["name"] != "verification"] == [
        ("first_response", "KEMENKUMHAM", "breached"),
        ("resolution", "KANWIL-JATIM", "breached"),
        ("first_response", "KANWIL-JATIM", "breached"),
    ]

    # Per node, all time: every row covers its subtree.
    body = await hub.ok("GET", AGENCIES, 200)
    assert [r["agency_code"] for r in body["items"]] == [
        "KEMENKUMHAM",
        "KANWIL-JATIM",
        "LAPAS-SBY",
        "RUTAN-MLG",
        "PEMKOT-SBY",
    ]
    assert body["next_offset"] is None and body["period_from"] is None and body["timezone"] == "Asia/Jakarta"
    assert body["as_of"].startswith("2026-03-12T02:00:00")
    rows = {r["agency_code"]: r for r in body["items"]}
    assert {code: figures(row) for code, row in rows.items()} == ALL_TIME
    kanwil = rows["KANWIL-JATIM"]
    assert (kanwil["kind"], kanwil["parent_code"], kanwil["depth"]) == ("kanwil", "KEMENKUMHAM", 1)

    # Paging and one node's children.
    page = await hub.ok("GET", AGENCIES, 200, params={"limit": 2, "offset": 2})
    assert [r["agency_code"] for r in page["items"]] == ["LAPAS-SBY", "RUTAN-MLG"] and page["next_offset"] == 4
    children = await _agencies(hub, parent_code="KANWIL-JATIM")
    assert list(children) == ["LAPAS-SBY", "RUTAN-MLG"]
    assert figures(children["RUTAN-MLG"]) == ALL_TIME["RUTAN-MLG"]

    # The period filter: dates in WIB, both ends included; the months add up to the totals.
    february = await _agencies(hub, **{"from": "2026-02-01", "to": "2026-02-28"})
    assert {code: figures(row) for code, row in february.items()} == FEBRUARY
    march = await _agencies(hub, **{"from": "2026-03-01", "to": "2026-03-31"})
    assert {code: figures(row) for code, row in march.items()} == MARCH
    # Feb 3 in WIB: RUTAN got c2 (delegated in), KANWIL's subtree c3 only (c2 entered it on Feb 2); c10 came on
    # Feb 4 06:00 WIB, which is Feb 3 23:00 in UTC.
    feb3 = await _agencies(hub, **{"from": "2026-02-03", "to": "2026-02-03"})
    assert (feb3["RUTAN-MLG"]["received"], feb3["KANWIL-JATIM"]["received"], feb3["LAPAS-SBY"]["received"]) == (1, 1, 1)
    assert (await _agencies(hub, **{"from": "2026-03-05"}))["KEMENKUMHAM"]["received"] == 0

    # Buckets: one node's subtree by week and by day, the whole hub by month and quarter.
    weeks = await _periods(
        hub, agency_code="KANWIL-JATIM", granularity="week", **{"from": "2026-02-02", "to": "2026-03-08"}
    )
    assert [(w["period"], w["period_start"], w["period_end"], w["received"]) for w in weeks] == [
        ("2026-W06", "2026-02-02", "2026-02-08", 4),  # c1 c2 c3 c10
        ("2026-W07", "2026-02-09", "2026-02-15", 0),
        ("2026-W08", "2026-02-16", "2026-02-22", 0),
        ("2026-W09", "2026-02-23", "2026-03-01", 0),
        ("2026-W10", "2026-03-02", "2026-03-08", 6),  # c4 c5 c6 c7 c8, and c11 delegated in on Mar 3
    ]
    assert figures(weeks[0]) == FEBRUARY["KANWIL-JATIM"] and figures(weeks[4]) == MARCH["KANWIL-JATIM"]
    days = await _periods(hub, agency_code="RUTAN-MLG", granularity="day", **{"from": "2026-02-02", "to": "2026-02-05"})
    assert [(x["period"], x["received"], x["overdue"]) for x in days] == [
        ("2026-02-02", 0, 0),
        ("2026-02-03", 1, 0),  # c2, delegated in at 10:00
        ("2026-02-04", 1, 1),  # c10 at 06:00 WIB, overdue now
        ("2026-02-05", 0, 0),
    ]
    months = await _periods(hub, granularity="month", **{"from": "2026-01-15", "to": "2026-03-12"})
    assert {m["period"]: figures(m) for m in months} == HUB_BY_MONTH
    assert (months[0]["period_start"], months[-1]["period_end"]) == ("2026-01-01", "2026-03-31")  # widened
    (quarter,) = await _periods(hub, granularity="quarter", **{"from": "2026-03-12", "to": "2026-03-12"})
    assert (quarter["period"], figures(quarter)) == ("2026-Q1", HUB_Q1)
    # By default: the last 12 buckets up to today.
    default = await hub.ok("GET", PERIODS, 200, params={"agency_code": "LAPAS-SBY"})
    assert default["granularity"] == "month" and default["agency_code"] == "LAPAS-SBY"
    assert [m["period"] for m in default["items"]][::11] == ["2025-04", "2026-03"] and len(default["items"]) == 12
    assert sum(m["received"] for m in default["items"]) == ALL_TIME["LAPAS-SBY"][0]

    # CSV: the same rows, strings, empty for null; a cell that a spreadsheet would read as a formula is quoted.
    r = await hub.client.get(AGENCIES, params={"format": "csv"}, headers=ADMIN)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert list(table[0]) == ["agency_code", "name", "kind", "parent_code", "depth", *FIELDS]
    for line, row in zip(table, body["items"], strict=True):
        expected = {k: "" if v is None else str(v) for k, v in row.items()}
        expected["name"] = "'=Pemkot Surabaya" if row["name"].startswith("=") else row["name"]
        assert line == expected
    paged = await hub.client.get(AGENCIES, params={"limit": 2}, headers={**ADMIN, "Accept": "text/csv"})
    assert paged.headers["content-type"].startswith("text/csv") and paged.headers["x-next-offset"] == "2"
    assert [x["agency_code"] for x in csv.DictReader(io.StringIO(paged.text))] == ["KEMENKUMHAM", "KANWIL-JATIM"]
    r = await hub.client.get(
        PERIODS,
        params={"granularity": "month", "from": "2026-01-15", "to": "2026-03-12"},
        headers={**ADMIN, "Accept": "text/csv"},
    )
    lines = list(csv.reader(io.StringIO(r.text)))
    assert lines[0][:3] == ["period", "period_start", "period_end"] and len(lines) == 4
    assert lines[2][:4] == ["2026-02", "2026-02-01", "2026-02-28", "5"] and lines[1][-1] == ""
    r = await hub.client.get(PERIODS, params={"format": "json"}, headers={**ADMIN, "Accept": "text/csv"})
    assert r.headers["content-type"] == "application/json"

    # The sweep firing the breaches (as the worker would) changes nothing: late running clocks already counted.
    assert await sweep_once(hub.runtime.db, hub.runtime.context, 1000) > 0
    assert {code: figures(row) for code, row in (await _agencies(hub)).items()} == ALL_TIME
    # Time moves on: c4's resolution clock (due Mar 27) breaches too, and is counted at once.
    clock.set(wib(3, 30, 9))
    rutan = (await _agencies(hub))["RUTAN-MLG"]
    assert (rutan["overdue"], rutan["sla_met"], rutan["sla_breached"]) == (2, 3, 3)


async def test_bad_parameters_are_json_422(hub: Hub) -> None:
    await hub.node("KEMENKUMHAM")
    (row,) = (await hub.ok("GET", AGENCIES, 200))["items"]
    assert figures(row) == (0, 0, 0, 0, None, None, 0, 0, None, 0, None)

    async def refused(path: str, code: str, **params: Any) -> None:
        r = await hub.client.get(path, params=params, headers=ADMIN)
        assert r.status_code == 422 and r.headers["content-type"] == "application/json", (params, r.text)
        assert r.json()["error"]["code"] == code, (params, r.text)

    for path in (AGENCIES, PERIODS):
        await refused(path, "invalid_period", **{"from": "2026-03-02", "to": "2026-03-01"})
        await refused(path, "invalid_period", **{"from": "0001-01-01"})
        await refused(path, "invalid_period", to="9999-12-31")
        await refused(path, "validation_error", **{"from": "2026-02-30"})
        await refused(path, "validation_error", format="xlsx")
        await refused(path, "invalid_period", format="csv", **{"from": "2026-03-02", "to": "2026-03-01"})
    await refused(AGENCIES, "unknown_agency", parent_code="NOPE")
    await refused(AGENCIES, "validation_error", parent_code="no such/node")
    await refused(PERIODS, "unknown_agency", agency_code="NOPE")
    await refused(PERIODS, "validation_error", granularity="hour")
    await refused(PERIODS, "period_too_long", granularity="day", **{"from": "2025-01-01", "to": "2026-01-02"})
    assert len(await _periods(hub, granularity="day", **{"from": "2025-01-01", "to": "2025-12-31"})) == 365
    r = await hub.client.get(AGENCIES, params={"format": "csv"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
