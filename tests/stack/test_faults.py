"""The compose stack under faults, through nginx only: a burst of complaints while one NATS node and one replica of
each service are killed, then while PostgreSQL restarts. Every accepted complaint reaches its agency's inbox exactly
once, the reporter's confirmation is sent exactly once, and the stack is ready again by itself.

`make stack-test` runs this against `make stack` (SIMPUL_E2E_BASE_URL, SIMPUL_E2E_ADMIN_KEY, SIMPUL_STACK_PROJECT).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

import httpx
import pytest

from tests.e2e.hub import Api, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

BURST = int(os.environ.get("SIMPUL_STACK_BURST", "200"))
CONCURRENCY = 8
FAULT_AT = BURST // 4
"""Accepted complaints before the fault: the rest of the burst runs through it."""
DOWN_S = 10.0
"""How long the killed containers stay down before they are started again."""
AFTER_FAULT = 20
"""Complaints accepted after the fault ended: the burst goes on until then, however fast the machine is."""
SUBMIT_DEADLINE_S = 240.0
SETTLE_S = 240.0
RETRIED = {429, 502, 503, 504}
"""Answers a client retries with the same Idempotency-Key: the proxy or a replica could not take it just then."""


@dataclass(frozen=True)
class Stack:
    base_url: str
    admin_key: str
    project: str

    def container(self, service: str, index: int = 1) -> str:
        """The container of a service's replica, by the compose project's labels."""
        filters = ["--filter", f"label=com.docker.compose.project={self.project}"]
        filters += ["--filter", f"label=com.docker.compose.service={service}"]
        filters += ["--filter", f"label=com.docker.compose.container-number={index}"]
        names = docker("ps", "--all", "--format", "{{.Names}}", *filters).split()
        assert len(names) == 1, f"{service} #{index}: {names}"
        return names[0]


def docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"docker {' '.join(args)}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def stack() -> Stack:
    names = ("SIMPUL_E2E_BASE_URL", "SIMPUL_E2E_ADMIN_KEY", "SIMPUL_STACK_PROJECT")
    base_url, key, project = (os.environ.get(name) for name in names)
    if not (base_url and key and project):
        pytest.skip("needs the compose stack: `make stack-test` runs these against `make stack`")
    return Stack(base_url.rstrip("/"), key, project)


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[Api]:
    a = Api(stack, admin_key=stack.admin_key)
    yield a
    a.client.close()


@dataclass
class Burst:
    """A category routed to a fresh node, and what the hub accepted of it."""

    api: Api
    category: str
    key: dict[str, str]
    accepted: dict[str, str] = field(default_factory=dict)
    """Idempotency-Key -> tracking id."""
    retries: dict[str, int] = field(default_factory=dict)
    """What was answered before a submission was accepted, by status (or transport error), counted."""
    at_fault: int = 0
    """Complaints accepted when the fault began."""

    @classmethod
    def make(cls, api: Api, label: str) -> Burst:
        run = f"{label}-{uuid.uuid4().hex[:6]}".upper()
        instansi, upt, category = f"ST-{run}", f"ST-{run}-UPT", f"stack-{run.lower()}"
        api.node(instansi, "instansi")
        api.node(upt, "upt", instansi, region_codes=["3578"])
        api.category(category)
        rule = {"agency_code": upt, "category": category, "priority": 0}
        api.ok(api.client.post("/api/v1/hub/routing-rules", json=rule, headers=api.admin), 201)
        return cls(api, category, api.key(upt))

    def body(self, n: int) -> dict:
        return {
            "title": f"Keluhan beruntun nomor {n}",
            "content": "Antrean layanan tidak bergerak sejak pagi.",
            "classification": "pengaduan",
            "category": self.category,
            "region_code": "3578",
            # An address of its own: notify's daily limit per address holds across runs on the same stack.
            "reporter": {"name": f"Pelapor {n}", "email": f"pelapor{n}.{self.category}@example.test"},
        }

    async def submit(self, client: httpx.AsyncClient, n: int) -> None:
        """One complaint, retried with its Idempotency-Key until the hub accepts it."""
        key = f"stack-{self.category}-{n}"
        deadline = time.monotonic() + SUBMIT_DEADLINE_S
        while True:
            try:
                answer = await client.post("/api/v1/complaints", json=self.body(n), headers={"Idempotency-Key": key})
                if answer.status_code in (200, 201):
                    self.accepted[key] = answer.json()["tracking_id"]
                    return
                assert answer.status_code in RETRIED, f"complaint {n}: {answer.status_code} {answer.text}"
                outcome = str(answer.status_code)
            except httpx.TransportError as exc:
                outcome = type(exc).__name__
            self.retries[outcome] = self.retries.get(outcome, 0) + 1
            assert time.monotonic() < deadline, f"complaint {n} not accepted in {SUBMIT_DEADLINE_S}s: {self.retries}"
            await asyncio.sleep(0.5)

    def run(self, base_url: str, fault: Callable[[], object]) -> float:
        """A burst of at least BURST complaints, with `fault` run (in a thread) once FAULT_AT are in; it goes on until
        AFTER_FAULT more are accepted after the fault ended. Returns the seconds it took."""
        started = time.monotonic()
        stop, finished = threading.Event(), threading.Event()
        failure: list[BaseException] = []
        at_end: list[int] = []

        def watch() -> None:
            while len(self.accepted) < FAULT_AT:
                if stop.wait(0.05):
                    return
            self.at_fault = len(self.accepted)
            try:
                fault()
            except BaseException as exc:
                failure.append(exc)
            finally:
                at_end.append(len(self.accepted))
                finished.set()

        def more(n: int) -> bool:
            if n < BURST:
                return True
            if failure or time.monotonic() - started > SUBMIT_DEADLINE_S:
                return False
            return not finished.is_set() or len(self.accepted) < at_end[0] + AFTER_FAULT

        async def burst() -> None:
            numbers = itertools.count()
            limits = httpx.Limits(max_connections=CONCURRENCY)
            async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:

                async def worker() -> None:
                    while more(n := next(numbers)):
                        await self.submit(client, n)

                await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            asyncio.run(burst())
        finally:
            stop.set()
        assert finished.wait(SUBMIT_DEADLINE_S), "the fault never finished"
        if failure:
            raise failure[0]
        assert self.at_fault >= FAULT_AT, f"the fault began after {self.at_fault} complaints"
        assert len(self.accepted) >= at_end[0] + AFTER_FAULT, "the hub took complaints again once the fault was over"
        return time.monotonic() - started

    def assert_exactly_once(self) -> None:
        """Every accepted complaint in the inbox once (and nothing else), each reporter confirmed once."""
        tids = set(self.accepted.values())
        assert len(tids) == len(self.accepted) >= BURST, "one tracking id per complaint, retried or not"

        def all_in() -> list[str] | None:
            inbox = self.api.inbox(self.key)
            return inbox if set(inbox) >= tids else None

        inbox = wait_for(all_in, timeout=SETTLE_S, interval=1)
        assert sorted(inbox) == sorted(tids), "the inbox holds each accepted complaint once, and nothing more"

        def confirmations(tid: str) -> list[dict] | None:
            """The reporter's confirmations of a case, once one of them is sent."""
            params: dict[str, str | int] = {"tracking_id": tid, "limit": 50}
            found = self.api.client.get("/api/v1/notify/deliveries", params=params, headers=self.api.admin)
            mine = [
                d
                for d in self.api.ok(found, 200)["items"]
                if d["recipient_kind"] == "reporter" and d["template"] == "confirmation"
            ]
            return mine if any(d["status"] == "sent" for d in mine) else None

        for tid in sorted(tids):
            assert len(wait_for(partial(confirmations, tid), timeout=SETTLE_S)) == 1, tid


def wait_ready(api: Api) -> float:
    started = time.monotonic()
    wait_for(lambda: api.client.get("/readyz").status_code == 200, timeout=SETTLE_S, interval=1)
    return time.monotonic() - started


def test_killing_a_nats_node_and_a_replica_of_each_service_loses_and_doubles_nothing(
    stack: Stack, api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    burst = Burst.make(api, "kill")
    services = ("intake", "routing", "agency", "notify", "gateway")
    victims = [stack.container("nats-2"), *(stack.container(s) for s in services)]

    accepted_while_down: list[int] = []

    def kill_then_start() -> None:
        docker("kill", *victims)
        try:
            killed = len(burst.accepted)
            time.sleep(DOWN_S)
            accepted_while_down.append(len(burst.accepted) - killed)
        finally:
            docker("start", *victims)

    seconds = burst.run(stack.base_url, kill_then_start)
    assert accepted_while_down[0] > 0, "the hub kept accepting while a node and a replica of each service were down"
    burst.assert_exactly_once()
    ready = wait_ready(api)
    with capsys.disabled():
        print(f"\n  killed {', '.join(victims)} after {burst.at_fault} of {BURST} complaints")
        print(f"  {accepted_while_down[0]} accepted in the {DOWN_S:.0f}s they were down; then started again")
        print(f"  {len(burst.accepted)} accepted in {seconds:.0f}s; retried {burst.retries}")
        print(f"  inbox and confirmations exactly once; ready again {ready:.0f}s after")


def test_a_postgresql_restart_mid_burst_loses_and_doubles_nothing(
    stack: Stack, api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    burst = Burst.make(api, "pg")
    postgres = stack.container("postgres")

    seconds = burst.run(stack.base_url, lambda: docker("restart", "--time", "10", postgres))
    burst.assert_exactly_once()
    ready = wait_ready(api)
    restarted = docker("inspect", "--format", "{{.State.StartedAt}}", postgres).strip()
    with capsys.disabled():
        print(f"\n  restarted {postgres} after {burst.at_fault} of {BURST} complaints (up again at {restarted})")
        print(f"  {len(burst.accepted)} accepted in {seconds:.0f}s")
        print(f"  retried {burst.retries}; inbox and confirmations exactly once; ready again {ready:.0f}s after")
