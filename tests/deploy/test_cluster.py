"""Cluster mode: three clustered nats-servers with R3 streams, two processes of every service on one database each.

During a burst of submissions (spread over both intake replicas by a round-robin balancer, each retried with its
Idempotency-Key when the answer is lost) the test kills -9 the nats-server that leads the SIMPUL stream and one
replica of every service, then starts that nats-server again and waits for it to rejoin. Afterwards every accepted
submission is exactly once in intake, in routing's cases (dispositioned once, by the rule), in the agency's inbox,
and has exactly one confirmation and one disposition message in notify; and both replicas of every service had done
a share of the work before the kill. The burst's size is SIMPUL_CLUSTER_BURST (default 300).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NATS
from sqlalchemy import select

from agency_svc.models import Case as AgencyCase
from intake_svc.models import Complaint
from notify_svc.models import Notification
from routing_svc.models import Case as RoutingCase
from routing_svc.models import CaseHistory
from services.nats_users import GRANTS
from services.registry import SERVICES
from shared.bus.consumer import LAG_REPORT_INTERVAL_S
from shared.bus.nats_bus import DLQ_STREAM, PRIVATE_STREAM, STREAM
from tests.chaos.burst import Burst, Submission
from tests.deploy.cluster_hub import ClusterHub, cluster_hub, metric
from tests.deploy.nats_conf import ClusterNode, routed_to
from tests.e2e.hub import Api
from tests.support.databases import backends

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

CATEGORY = "pemasyarakatan"
REGION = "3578"
RATE = 10.0
"""Submissions a second: a burst of 300 lasts 30 s, long enough for the faults to fall inside it."""
CONVERGENCE_TIMEOUT_S = 180.0
"""Routing handles some 5 to 10 events a second on a loaded two-core machine: the backlog of a burst drains slowly."""
SPREAD_TIMEOUT_S = 60.0
FAILOVER_TIMEOUT_S = 60.0


def burst_size() -> int:
    return int(os.environ.get("SIMPUL_CLUSTER_BURST", "300"))


@pytest.fixture(params=backends())
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ClusterHub]:
    with cluster_hub(tmp_path, request.param) as hub:
        yield hub


@dataclass
class RuledBurst(Burst):
    """Submissions that name no agency (the hub's routing rule, by category and region, sends each to the UPT),
    started at a steady `rate` a second: the traffic goes on through the faults and after them."""

    rate: float = RATE
    _started: float = 0.0

    def body(self, s: Submission) -> dict[str, Any]:
        body = super().body(s)
        del body["agency_code"]
        return {**body, "category": CATEGORY, "region_code": REGION}

    async def run(self) -> None:
        self._started = time.monotonic()
        await super().run()

    async def _submit(self, client: httpx.AsyncClient, s: Submission) -> None:
        await asyncio.sleep(max(0.0, self._started + s.index / self.rate - time.monotonic()))
        await super()._submit(client, s)


@dataclass
class Faults:
    """What was done to the cluster mid-burst, and what it looked like just before."""

    shares: dict[str, float] = field(default_factory=dict)
    """Events each replica had handled (simpul_events_consumed_total, ok) when the kill came."""
    submissions: dict[str, float] = field(default_factory=dict)
    """Submissions each intake replica had accepted (201) when the kill came."""
    killed_node: str = ""
    led: bool = False
    """Whether the killed nats-server led the SIMPUL stream when it was killed."""
    node_clients: dict[str, int] = field(default_factory=dict)
    """The services' connections the killed nats-server had, by user: each of them had to fail over."""
    killed_pids: dict[str, int] = field(default_factory=dict)
    accepted_before: int = 0
    killed_at: float = 0.0
    new_leader: str = ""
    leader_after_s: float = 0.0
    restarted_after_s: float = 0.0
    rejoined_after_s: float = 0.0
    burst_over_at: float = 0.0


def test_a_burst_survives_losing_a_nats_node_and_a_replica_of_each_service(cluster: ClusterHub) -> None:
    started = time.monotonic()
    api = Api(cluster)  # it needs only a base_url
    tag = f"CLUSTER-{uuid.uuid4().hex[:6].upper()}"
    instansi, upt = f"{tag}-KEMENKUMHAM", f"{tag}-LAPAS"
    api.node(instansi, "instansi")
    api.node(upt, "upt", instansi, region_codes=[REGION])
    api.key(upt)
    rule = {"agency_code": upt, "category": CATEGORY, "region_code": REGION[:2], "priority": 0}
    rule_id = api.ok(api.client.post("/api/v1/hub/routing-rules", json=rule, headers=api.admin), 201)["id"]
    api.client.close()

    burst = RuledBurst(
        base_url=cluster.base_url, tag=tag, agency_code=upt, size=burst_size(), concurrency=16, rate=RATE
    )
    faults = asyncio.run(_burst_with_faults(cluster, burst))
    converged_s = asyncio.run(_converged(cluster, burst, upt))
    asyncio.run(_settled(cluster))
    ledger = asyncio.run(_ledger(cluster, burst))

    balanced = {name: sorted(b.connections.values()) for name, b in cluster.balancers.by_service.items()}
    print(
        f"\ncluster [{cluster.backend}], {time.monotonic() - started:.0f}s in all:",
        f"\n  burst: sent {len(burst.submissions)}, accepted {len(burst.accepted)} ({faults.accepted_before} before "
        f"the kill), answers {dict(burst.answers)}, retried {burst.retried()}, "
        f"replayed {sum(s.replayed for s in burst.submissions)}; connections per replica {balanced}",
        f"\n  before the kill: events handled {faults.shares}, submissions accepted {faults.submissions}",
        f"\n  killed: nats {faults.killed_node} (SIMPUL leader: {faults.led}; service clients "
        f"{faults.node_clients}) and {faults.killed_pids}",
        f"\n  after: new leader {faults.new_leader} at +{faults.leader_after_s:.1f}s, node restarted at "
        f"+{faults.restarted_after_s:.1f}s, rejoined at +{faults.rejoined_after_s:.1f}s; burst over at "
        f"+{faults.burst_over_at - faults.killed_at:.1f}s, everything routed and told {converged_s:.1f}s later",
    )
    assert burst.findings == [], burst.findings[:10]
    accepted = burst.accepted
    assert len(accepted) == len(burst.submissions)

    # Nothing lost, nothing doubled: per submission one complaint, and per complaint one of everything it is owed.
    per_title = Counter(title for _, title, _ in ledger.intake)
    assert {s.title: per_title[s.title] for s in burst.submissions} == {s.title: 1 for s in burst.submissions}
    assert {tid for tid, _, _ in ledger.intake} == set(accepted)
    assert {tid: status for tid, _, status in ledger.intake} == dict.fromkeys(accepted, "dispositioned")
    assert ledger.routing == {tid: ("dispositioned", upt) for tid in accepted}
    assert ledger.dispositions == {tid: [str(rule_id)] for tid in accepted}, "one disposition each, by the rule"
    assert Counter(tid for tid, _, _ in ledger.agency) == Counter(set(accepted))
    assert {tid: (title, code) for tid, title, code in ledger.agency} == {
        tid: (s.title, upt) for tid, s in accepted.items()
    }
    expected_messages = {(tid, what, "sent"): 1 for tid in accepted for what in ("confirmation", "dispositioned")}
    assert dict(ledger.messages) == expected_messages

    # The work spread: both replicas of every service had handled events before the kill, and both intake
    # replicas had accepted submissions.
    assert set(faults.shares) == {f"{s.name}-{i}" for s in SERVICES for i in (1, 2)}
    assert all(n > 0 for n in faults.shares.values()), faults.shares
    assert all(n > 0 for n in faults.submissions.values()) and len(faults.submissions) == 2, faults.submissions

    # The faults came during the burst; what was killed stayed dead (nothing restarted it behind the test's back);
    # the node that was killed led SIMPUL, had clients, and came back.
    assert all(not cluster.replicas[s.name][0].alive() for s in SERVICES)
    assert all(p.alive() for s in SERVICES for p in cluster.replicas[s.name][1:])
    assert 0 < faults.accepted_before < len(burst.submissions) and faults.burst_over_at > faults.killed_at
    assert faults.led and sum(faults.node_clients.values()) > 0, "the killed node led SIMPUL and had clients"
    assert faults.new_leader not in ("", faults.killed_node)
    assert faults.rejoined_after_s > faults.restarted_after_s > 0


async def _burst_with_faults(hub: ClusterHub, burst: Burst) -> Faults:
    faults = Faults()
    nc = await hub.ops()
    # The node to kill: the one most services are connected to, made the SIMPUL stream's leader beforehand, so that
    # losing it costs clients their connection and the stream its leader.
    clients = {n.name: await asyncio.to_thread(_service_clients, n) for n in hub.nodes}
    victim = hub.node(max(clients, key=lambda name: sum(clients[name].values())))
    await _lead(nc, victim.name)
    run = asyncio.create_task(burst.run())
    run.add_done_callback(lambda _: setattr(faults, "burst_over_at", time.monotonic()))
    try:
        await burst.wait_accepted(burst.size // 4)
        faults.shares, faults.submissions = await _spread(hub, burst)
        if run.done():
            raise AssertionError(f"the burst ended before the fault: {burst.findings[:5]}")
        faults.killed_node = victim.name
        faults.led = await _stream_leader(nc) == victim.name
        faults.node_clients = dict(await asyncio.to_thread(_service_clients, victim))
        faults.accepted_before = burst.accepted_count
        faults.killed_at = time.monotonic()
        hub.kill_node(victim)
        for spec in SERVICES:
            replica = hub.replicas[spec.name][0]
            assert replica.process is not None
            faults.killed_pids[replica.name] = replica.process.pid
            replica.kill()

        faults.new_leader = await _new_leader(nc, victim.name)
        faults.leader_after_s = time.monotonic() - faults.killed_at
        # The cluster works on without the node for a while (or until the burst is over), then it comes back.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(burst.wait_accepted(burst.size * 5 // 6), 20)
        await asyncio.to_thread(hub.restart_node, victim)
        faults.restarted_after_s = time.monotonic() - faults.killed_at
        await _rejoined(hub, nc, victim)
        faults.rejoined_after_s = time.monotonic() - faults.killed_at
    except BaseException:
        run.cancel()
        raise
    finally:
        with contextlib.suppress(asyncio.CancelledError):
            await run
        await nc.close()
    return faults


async def _spread(hub: ClusterHub, burst: Burst) -> tuple[dict[str, float], dict[str, float]]:
    """Events each replica has handled and submissions each intake replica has accepted, once every one of them has
    done some, or once most of the burst is in (the kill must come while it runs), or the time is up."""
    replicas = [p for group in hub.replicas.values() for p in group]
    deadline = time.monotonic() + SPREAD_TIMEOUT_S
    while True:
        handled, accepted = await asyncio.gather(
            asyncio.gather(
                *(asyncio.to_thread(metric, p.url, "simpul_events_consumed_total", outcome="ok") for p in replicas)
            ),
            asyncio.gather(*(asyncio.to_thread(_accepted_by, p.url) for p in hub.replicas["intake"])),
        )
        shares = {p.name: n for p, n in zip(replicas, handled, strict=True)}
        submissions = {p.name: n for p, n in zip(hub.replicas["intake"], accepted, strict=True)}
        late = burst.accepted_count >= burst.size * 2 // 3 or time.monotonic() > deadline
        if all(shares.values()) and all(submissions.values()) or late:
            return shares, submissions
        await asyncio.sleep(0.2)


def _accepted_by(url: str) -> float:
    return metric(url, "simpul_http_requests_total", method="POST", route="/api/v1/complaints", status="201")


def _service_clients(node: ClusterNode) -> Counter[str]:
    """The services' connections to a node, by user."""
    connz = httpx.get(f"http://127.0.0.1:{node.monitor_port}/connz?auth=true&limit=1024", timeout=5).json()
    return Counter(c["authorized_user"] for c in connz["connections"] or [] if c.get("authorized_user") in GRANTS)


async def _lead(nc: NATS, name: str) -> None:
    """Until the node `name` leads the SIMPUL stream: ask the leader to step down in its favour."""
    deadline = time.monotonic() + FAILOVER_TIMEOUT_S
    while (leader := await _stream_leader(nc)) != name:
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} did not become the leader of {STREAM} (still {leader})")
        request = json.dumps({"placement": {"preferred": name}}).encode()
        await nc.request(f"$JS.API.STREAM.LEADER.STEPDOWN.{STREAM}", request, timeout=5)
        await _new_leader(nc, leader)


async def _stream_leader(nc: NATS, stream: str = STREAM) -> str:
    info = await nc.jetstream(timeout=5).stream_info(stream)
    assert info.cluster is not None and info.cluster.leader, f"{stream} has no leader"
    return str(info.cluster.leader)


async def _new_leader(nc: NATS, gone: str) -> str:
    """The SIMPUL stream's leader once the cluster has elected one other than `gone`."""
    deadline = time.monotonic() + FAILOVER_TIMEOUT_S
    while True:
        with contextlib.suppress(Exception):
            leader = await _stream_leader(nc)
            if leader != gone:
                return leader
        if time.monotonic() > deadline:
            raise AssertionError(f"no new leader of {STREAM} within {FAILOVER_TIMEOUT_S:.0f}s of losing {gone}")
        await asyncio.sleep(0.2)


async def _rejoined(hub: ClusterHub, nc: NATS, node: ClusterNode) -> None:
    """Until the node routes to the other two again and is a current peer of each of the three streams."""
    others = {n.name for n in hub.nodes} - {node.name}
    routes = await asyncio.to_thread(routed_to, node, others, FAILOVER_TIMEOUT_S)
    assert routes == others, f"{node.name} routes to {routes} after its restart"
    deadline = time.monotonic() + FAILOVER_TIMEOUT_S
    while True:
        behind = [s for s in (STREAM, PRIVATE_STREAM, DLQ_STREAM) if not await _current_peer(nc, s, node.name)]
        if not behind:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{node.name} is not a current peer of {behind} {FAILOVER_TIMEOUT_S:.0f}s on")
        await asyncio.sleep(0.2)


async def _current_peer(nc: NATS, stream: str, name: str) -> bool:
    try:
        info = await nc.jetstream(timeout=5).stream_info(stream)
    except Exception:
        return False
    cluster = info.cluster
    if cluster is None or not cluster.leader:
        return False
    peers = {p.name: bool(p.current) for p in cluster.replicas or []}
    return cluster.leader == name or peers.get(name, False)


async def _converged(hub: ClusterHub, burst: Burst, upt: str) -> float:
    """Seconds until every accepted complaint is in the UPT's inbox, dispositioned in intake's view, and messaged."""
    start = time.monotonic()
    accepted = set(burst.accepted)
    while True:
        ledger = await _ledger(hub, burst)
        inbox = {tid for tid, _, code in ledger.agency if code == upt}
        told = {tid for tid, status in ((t, s) for t, _, s in ledger.intake) if status == "dispositioned"}
        sent = {tid for (tid, what, status) in ledger.messages if what == "dispositioned" and status == "sent"}
        if accepted <= inbox and accepted <= told and accepted <= sent:
            return time.monotonic() - start
        if time.monotonic() - start > CONVERGENCE_TIMEOUT_S:
            raise AssertionError(
                f"not every accepted complaint arrived within {CONVERGENCE_TIMEOUT_S:.0f}s: "
                f"{len(accepted - inbox)} not in the inbox, {len(accepted - told)} not dispositioned in intake, "
                f"{len(accepted - sent)} without their message"
            )
        await asyncio.sleep(0.5)


async def _settled(hub: ClusterHub, timeout: float = 60.0) -> None:
    """Until the surviving replicas report nothing in flight twice, one lag refresh apart: a late duplicate would
    show in the ledger taken after this."""
    gauges = ("simpul_outbox_backlog", "simpul_consumer_pending", "simpul_consumer_ack_pending")
    survivors = [p for group in hub.replicas.values() for p in group if p.alive()]
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    while True:
        moving = {(p.name, g): n for p in survivors for g in gauges if (n := await asyncio.to_thread(metric, p.url, g))}
        now = time.monotonic()
        if moving:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since > LAG_REPORT_INTERVAL_S + 0.5:
            return
        if now > deadline:
            raise AssertionError(f"the cluster did not settle within {timeout:.0f}s: {moving}")
        await asyncio.sleep(0.5)


@dataclass
class Ledger:
    intake: list[tuple[str, str, str]]
    """(tracking id, title, status) of every complaint of the burst in intake's database."""
    routing: dict[str, tuple[str, str | None]]
    """tracking id -> (status, holder) in routing's cases."""
    dispositions: dict[str, list[str | None]]
    """tracking id -> the rule of each disposition in routing's history."""
    agency: list[tuple[str, str, str]]
    """(tracking id, title, agency code) of every case of the burst in agency's inbox."""
    messages: Counter[tuple[str, str, str]]
    """(tracking id, what, status) of the reporter's notifications: what is the template, or the status told."""


async def _ledger(hub: ClusterHub, burst: Burst) -> Ledger:
    titles = [s.title for s in burst.submissions]
    engines = {s.name: hub.engine(s.name) for s in SERVICES}
    try:
        async with engines["intake"].connect() as conn:
            intake = [
                (r.tracking_id, r.title, r.status)
                for r in await conn.execute(
                    select(Complaint.tracking_id, Complaint.title, Complaint.status).where(Complaint.title.in_(titles))
                )
            ]
        tids = sorted({tid for tid, _, _ in intake})
        async with engines["routing"].connect() as conn:
            cases = await conn.execute(
                select(RoutingCase.tracking_id, RoutingCase.status, RoutingCase.agency_code).where(
                    RoutingCase.tracking_id.in_(tids)
                )
            )
            routing = {r.tracking_id: (r.status, r.agency_code) for r in cases}
            history = await conn.execute(
                select(CaseHistory.tracking_id, CaseHistory.rule_id)
                .where(CaseHistory.tracking_id.in_(tids), CaseHistory.to_status == "dispositioned")
                .order_by(CaseHistory.id)
            )
            dispositions: dict[str, list[str | None]] = {}
            for r in history:
                dispositions.setdefault(r.tracking_id, []).append(r.rule_id)
        async with engines["agency"].connect() as conn:
            agency = [
                (r.tracking_id, r.title, r.agency_code)
                for r in await conn.execute(
                    select(AgencyCase.tracking_id, AgencyCase.title, AgencyCase.agency_code).where(
                        AgencyCase.title.in_(titles), AgencyCase.released_at.is_(None)
                    )
                )
            ]
        async with engines["notify"].connect() as conn:
            rows = await conn.execute(
                select(
                    Notification.tracking_id, Notification.template, Notification.context, Notification.status
                ).where(Notification.tracking_id.in_(tids), Notification.recipient_kind == "reporter")
            )
            messages: Counter[tuple[str, str, str]] = Counter()
            for r in rows:
                what = str(r.context.get("status")) if r.template == "status_changed" else r.template
                messages[(str(r.tracking_id), what, r.status)] += 1
    finally:
        for engine in engines.values():
            await engine.dispose()
    return Ledger(intake=intake, routing=routing, dispositions=dispositions, agency=agency, messages=messages)
