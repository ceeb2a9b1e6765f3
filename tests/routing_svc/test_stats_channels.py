"""The hub's statistics per channel, against a hand-counted fixture (times WIB, 2026; F = the node's first-response
clock, 5 working days; R = the resolution clock, 14 working days), read at Thu Mar 12 09:00 WIB:

s1  sms    Feb 2 09:00 to LAPAS; ack 15:00 (0.25 wd, 6 h); final follow-up Feb 4; rated 4 Feb 5.   F met, R met
s2  sms    Feb 3 09:00 to PEMKOT; nothing: F and R running late (overdue).                       F, R breached
e1  email  Feb 3 10:00 to LAPAS; ack Feb 4 10:00 (1 wd, 24 h); R running late (overdue).          F met, R breached
w1  web    Mar 2 09:00 to PEMKOT; ack 12:00 (0.125 wd, 3 h); R due Mar 27.                    F met, R undecided
t1  sms    Mar 4 09:00, still in triage: it has entered no node, and counts nowhere.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.routing_svc.conftest import ADMIN, Hub
from tests.routing_svc.test_stats import FIELDS, PERIODS, Driver, figures, stats_hub, wib
from tests.support.clock import ManualClock

CHANNELS = "/api/v1/hub/stats/channels"
ZERO = (0, 0, 0, 0, None, None, 0, 0, None, 0, None)
__all__ = ["stats_hub"]  # the fixture, imported for these tests

ALL_TIME = {
    # s1 s2 | followed s1 | completed s1 | overdue s2 | s1 .25 wd, 6 h | met s1 F R; breached s2 F R | rated s1 4
    "sms": (2, 1, 1, 1, 0.25, 6.0, 2, 2, 0.5, 1, 4.0),
    "email": (1, 0, 0, 1, 1.0, 24.0, 1, 1, 0.5, 0, None),
    "web": (1, 0, 0, 0, 0.125, 3.0, 1, 0, 1.0, 0, None),
}
LAPAS = {"sms": (1, 1, 1, 0, 0.25, 6.0, 2, 0, 1.0, 1, 4.0), "email": ALL_TIME["email"], "web": ZERO}


async def drive(hub: Hub, clock: ManualClock) -> None:
    await hub.node("KEMENKUMHAM")
    await hub.node("LAPAS-SBY", "upt", "KEMENKUMHAM")
    await hub.node("PEMKOT-SBY")
    d = Driver(hub, clock)
    L, P = "LAPAS-SBY", "PEMKOT-SBY"
    s1 = await d.submit(wib(2, 2, 9), L, channel="sms")
    await d.ack(wib(2, 2, 15), s1, L)
    s2 = await d.submit(wib(2, 3, 9), P, channel="sms")
    e1 = await d.submit(wib(2, 3, 10), L, channel="email")
    await d.ack(wib(2, 4, 10), e1, L)
    await d.followup(wib(2, 4, 11), s1, L, final=True)
    await d.rate(wib(2, 5, 9), s1, 4)
    w1 = await d.submit(wib(3, 2, 9), P, channel="web")
    await d.ack(wib(3, 2, 12), w1, P)
    await d.submit(wib(3, 4, 9), channel="sms")
    clock.set(wib(3, 12, 9))
    assert s2  # driven for its clocks alone


async def by_channel(hub: Hub, **params: Any) -> dict[str, tuple]:
    body = await hub.ok("GET", CHANNELS, 200, params=params)
    return {row["channel"]: figures(row) for row in body["items"]}


async def test_statistics_per_channel_match_the_hand_counted_fixture(stats_hub: tuple[Hub, ManualClock]) -> None:
    hub, clock = stats_hub
    await drive(hub, clock)

    body = await hub.ok("GET", CHANNELS, 200)
    assert body["agency_code"] is None and body["timezone"] == "Asia/Jakarta" and body["period_from"] is None
    assert [row["channel"] for row in body["items"]][:3] == ["web", "sms", "twitter"], "every channel, in order"
    rows = {row["channel"]: figures(row) for row in body["items"]}
    assert {c: f for c, f in rows.items() if f != ZERO} == ALL_TIME
    # The channels split the hub's own figures: their cases add up to the quarter's.
    (quarter,) = (
        await hub.ok("GET", PERIODS, 200, params={"granularity": "quarter", "from": "2026-03-12", "to": "2026-03-12"})
    )["items"]
    for i, field in enumerate(FIELDS):
        if field in ("received", "followed_up", "completed", "overdue", "sla_met", "sla_breached", "rated"):
            assert sum(f[i] for f in rows.values()) == quarter[field], field

    # One node's subtree; a period (dates in WIB, both ends included).
    lapas = await by_channel(hub, agency_code="LAPAS-SBY")
    assert {c: f for c, f in lapas.items() if c in LAPAS} == LAPAS and set(lapas.values()) >= {ZERO}
    assert {c: f for c, f in (await by_channel(hub, **{"from": "2026-03-01"})).items() if f != ZERO} == {
        "web": ALL_TIME["web"]
    }
    # KEMENKUMHAM's subtree in February: LAPAS's s1 and e1 (PEMKOT's s2 is another instansi's).
    february = await by_channel(hub, **{"from": "2026-02-01", "to": "2026-02-28"}, agency_code="KEMENKUMHAM")
    assert february == lapas

    # CSV: the same rows.
    r = await hub.client.get(CHANNELS, params={"format": "csv"}, headers=ADMIN)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert list(table[0]) == ["channel", *FIELDS]
    assert {line["channel"]: line["received"] for line in table if line["received"] != "0"} == {
        "web": "1",
        "sms": "2",
        "email": "1",
    }


async def test_bad_parameters_and_callers_are_refused(stats_hub: tuple[Hub, ManualClock]) -> None:
    hub, _ = stats_hub
    await hub.node("KEMENKUMHAM")

    async def refused(status: int, code: str, params: dict[str, str], headers: dict[str, str] = ADMIN) -> None:
        r = await hub.client.get(CHANNELS, params=params, headers=headers)
        assert r.status_code == status and r.json()["error"]["code"] == code, (params, r.text)

    await refused(422, "invalid_period", {"from": "2026-03-02", "to": "2026-03-01"})
    await refused(422, "invalid_period", {"from": "1969-12-31"})
    await refused(422, "unknown_agency", {"agency_code": "TIDAK-ADA"})
    await refused(422, "validation_error", {"agency_code": "bukan kode"})
    await refused(422, "validation_error", {"from": "kemarin"})
    await refused(401, "unauthenticated", {}, headers={})
    assert {f for f in (await by_channel(hub)).values()} == {ZERO}
