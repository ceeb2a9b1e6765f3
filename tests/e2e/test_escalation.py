"""A late agency is escalated step by step, across processes: `simpul up` plus a second routing_svc replica, with
time moved by a clock file that only test configuration (SIMPUL_CLOCK) lets the services read.

Hand-counted deadlines (the complaint arrives on Monday 2 March 2026, a little after 09:00 WIB; see
tests/routing_svc/test_sla.py): first response due at the end of Monday 9 March WIB, its warning on Friday 6 March
around 21:00 WIB; its ladder: the liaison then, the parent at the end of 16 March, the coordinators at the end of
30 March (Nyepi and Lebaran fall between); resolution due at the end of 27 March; oversight after 60 working days,
at the end of 10 June 2026.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.ports import free_port
from tests.e2e.hub import Api, Hub, asyncpg_url, drop_schemas, running_hub, stop_process, wait_for
from tests.support.apps import stream_events
from tests.support.clock import CLOCK_FILE_ENV, CLOCK_SPEC, FileClock
from tests.support.databases import backends

pytestmark = pytest.mark.e2e

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SWEEP = "0.05"


class Time:
    """Moves the hub's time: every service reads real time plus the offset written here."""

    def __init__(self, path: Path):
        self.path = path

    def move_to(self, when: datetime) -> None:
        FileClock.write(self.path, when - datetime.now(UTC))


def clock_env(clock_file: Path) -> dict[str, str]:
    return {"SIMPUL_CLOCK": CLOCK_SPEC, CLOCK_FILE_ENV: str(clock_file), "SIMPUL_ROUTING_SLA_SWEEP_INTERVAL": SWEEP}


@pytest.fixture(scope="module", params=backends())
def timed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, Time]]:
    data_dir = tmp_path_factory.mktemp("hub-timed")
    time = Time(data_dir / "clock.json")
    time.move_to(START)
    env = clock_env(time.path)
    if request.param == "postgres":
        prefix = f"e2e_{uuid.uuid4().hex[:8]}_"
        env |= {"SIMPUL_ROUTING_DATABASE_URL": asyncpg_url(), "SIMPUL_ROUTING_DATABASE_SCHEMA": f"{prefix}routing"}
        with (
            running_hub(data_dir, postgres=asyncpg_url(), schema_prefix=prefix, env=clock_env(time.path)) as h,
            second_routing_replica(h, env),
        ):
            yield h, time
        drop_schemas(prefix)
    else:
        with running_hub(data_dir, env=env) as h, second_routing_replica(h, env):
            yield h, time


@dataclass
class Replica:
    process: subprocess.Popen[bytes]
    url: str


@contextlib.contextmanager
def second_routing_replica(hub: Hub, env: dict[str, str]) -> Iterator[Replica]:
    """A second routing_svc process on the hub's database and broker, sweeping the same clocks."""
    port = free_port()
    child = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    child |= env | {
        "SIMPUL_ROUTING_HOST": "127.0.0.1",
        "SIMPUL_ROUTING_PORT": str(port),
        "SIMPUL_ROUTING_DATA_DIR": str(hub.data_dir),
        "SIMPUL_ROUTING_NATS_URL": hub.state()["nats"]["url"],
        "SIMPUL_ROUTING_NATS_USER": "routing",
        "SIMPUL_ROUTING_NATS_PASSWORD": hub.nats_password("routing"),
        **hub.key_env("routing"),
        "SIMPUL_ROUTING_LOG_JSON": "false",
        "PYTHONUNBUFFERED": "1",
    }
    log = (hub.data_dir / "routing-replica-b.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "routing_svc"], env=child, stdout=log, stderr=subprocess.STDOUT)
    replica = Replica(proc, f"http://127.0.0.1:{port}")
    try:
        wait_for(lambda: _ready(replica), timeout=60)
        yield replica
    finally:
        stop_process(proc, signal.SIGTERM)
        log.close()


def _ready(replica: Replica) -> bool:
    assert replica.process.poll() is None, "the second routing replica exited"
    try:
        return httpx.get(f"{replica.url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def events(hub: Hub, subject: str, tracking_id: str) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        bus = hub.ops_bus("e2e-reader")
        await bus.connect()
        try:
            return await stream_events(bus, subject)
        finally:
            await bus.close()

    return [e for e in asyncio.run(read()) if e["data"].get("tracking_id") == tracking_id]


def test_a_late_agency_is_escalated_step_by_step(timed: tuple[Hub, Time]) -> None:
    hub, time = timed
    api = Api(hub)
    api.node("KEMENKUMHAM", "instansi")
    api.node("KANWIL-JATIM", "kanwil", "KEMENKUMHAM", liaison_officers=[{"name": "Budi", "email": "b@kanwil.test"}])
    agency = api.key("KANWIL-JATIM")
    receipt = api.submit(agency_code="KANWIL-JATIM")
    tid = receipt["tracking_id"]

    def found(response: httpx.Response) -> dict[str, Any]:
        """The case, or {} while the events that bring it there are still on their way."""
        return {} if response.status_code == 404 else dict(api.ok(response, 200))

    def hub_case() -> dict[str, Any]:
        return found(api.client.get(f"/api/v1/hub/complaints/{tid}", headers=api.admin))

    def agency_case() -> dict[str, Any]:
        return found(api.client.get(f"/api/v1/agency/complaints/{tid}", headers=agency))

    def level(expected: int) -> dict[str, Any] | None:
        case = hub_case()
        return case if case.get("escalation_level") == expected else None

    wait_for(lambda: hub_case().get("status") == "dispositioned")
    first = wait_for(lambda: [c for c in agency_case().get("clocks", []) if c["name"] == "first_response"])[0]
    assert (first["due_at"], first["state"]) == ("2026-03-09T16:59:59.999999Z", "running")
    view = wait_for(lambda: (v := api.reporter_view(receipt))["expected_answer_date"] and v)
    assert view["expected_answer_date"] == "2026-03-27"

    time.move_to(datetime(2026, 3, 6, 14, 5, tzinfo=UTC))
    wait_for(lambda: events(hub, "simpul.sla.warning", tid))
    assert hub_case()["escalation_level"] == 0

    steps = [
        (datetime(2026, 3, 9, 17, 5, tzinfo=UTC), 1),  # first response breached: the liaison
        (datetime(2026, 3, 16, 17, 5, tzinfo=UTC), 2),  # the parent node
        (datetime(2026, 3, 30, 17, 5, tzinfo=UTC), 3),  # the coordinators
        (datetime(2026, 6, 10, 17, 5, tzinfo=UTC), 4),  # 60 working days: the oversight flag
    ]
    for when, expected in steps:
        time.move_to(when)
        wait_for(lambda e=expected: level(e), timeout=30)  # type: ignore[misc]
        shown = wait_for(lambda e=expected: (c := agency_case()).get("escalation_level") == e and c)  # type: ignore[misc]
        assert any(c["state"] == "breached" for c in shown["clocks"])

    rungs = wait_for(lambda: len(r := events(hub, "simpul.complaint.escalated", tid)) >= 7 and r)
    assert [(r["data"]["clock"], r["data"]["level"], r["data"]["target"]) for r in rungs] == [
        ("first_response", 1, "liaison"),
        ("first_response", 2, "parent"),
        ("first_response", 3, "coordinators"),
        ("resolution", 1, "liaison"),
        ("resolution", 2, "parent"),
        ("resolution", 3, "coordinators"),
        ("resolution", 4, "oversight"),
    ]
    assert rungs[1]["data"]["target_agency_code"] == "KEMENKUMHAM"
    warnings = Counter(e["data"]["clock"] for e in events(hub, "simpul.sla.warning", tid))
    breaches = Counter(r["data"]["clock"] for r in rungs if r["data"]["level"] == 1)  # a breach climbs to level 1
    assert warnings == breaches == Counter({"first_response": 1, "resolution": 1})
    assert hub_case()["status"] == "dispositioned"  # escalation never moves a case by itself

    # notify_svc knows the node's liaison officer from the directory alone (nobody registered him with notify): the
    # first rung of each clock reaches him; the parent's rung finds no officer at KEMENKUMHAM and says so.
    def liaison_notices() -> list[dict[str, Any]] | None:
        params = {"tracking_id": tid, "recipient_kind": "liaison", "limit": 50}
        found = api.ok(api.client.get("/api/v1/notify/deliveries", params=params, headers=api.admin), 200)["items"]
        notices = [d for d in found if d["template"] == "escalation" and d["status"] != "pending"]
        return notices if len(notices) == 4 else None

    notices = wait_for(liaison_notices, timeout=30)
    sent = [d for d in notices if d["status"] == "sent"]
    assert len(sent) == 2 and len({d["recipient_id"] for d in sent}) == 1 and sent[0]["recipient_id"]
    assert [(d["status"], d["reason"]) for d in notices if d not in sent] == [("skipped", "no_recipients")] * 2
    officers = api.ok(
        api.client.get("/api/v1/notify/recipients", params={"node_code": "KANWIL-JATIM"}, headers=api.admin), 200
    )
    assert [(o["id"], o["email"], o["name"]) for o in officers["items"]] == [
        (sent[0]["recipient_id"], "b@kanwil.test", "Budi")
    ]
