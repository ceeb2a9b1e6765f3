"""Each service of a running hub seen directly on its own port: /readyz and /metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from services.registry import SERVICES
from shared.bus.consumer import LAG_REPORT_INTERVAL_S
from tests.e2e.hub import Hub

NAMES = tuple(s.name for s in SERVICES)


def service_url(hub: Hub, name: str) -> str:
    return f"http://127.0.0.1:{hub.state()['services'][name]['port']}"


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def metrics(hub: Hub, name: str) -> list[Sample]:
    text = httpx.get(f"{service_url(hub, name)}/metrics", timeout=5).text
    return [
        Sample(s.name, dict(s.labels), float(s.value))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def readiness(hub: Hub, name: str) -> tuple[int, dict]:
    """A service's /readyz: its status code and body (status 0 when it does not answer at all)."""
    try:
        r = httpx.get(f"{service_url(hub, name)}/readyz", timeout=5)
    except httpx.HTTPError as exc:
        return 0, {"error": type(exc).__name__}
    return r.status_code, r.json()


def unsettled(hub: Hub) -> list[str]:
    """What is still moving in the hub: unpublished outbox rows, undelivered or unacknowledged messages."""
    moving: list[str] = []
    for name in NAMES:
        try:
            samples = metrics(hub, name)
        except httpx.HTTPError as exc:
            moving.append(f"{name}: /metrics {type(exc).__name__}")
            continue
        gauges = {"simpul_outbox_backlog", "simpul_consumer_pending", "simpul_consumer_ack_pending"}
        moving += [f"{name}: {s.name}{s.labels} = {s.value:g}" for s in samples if s.name in gauges and s.value != 0]
        if not any(s.name == "simpul_outbox_backlog" for s in samples):
            moving.append(f"{name}: no outbox backlog reported yet")
    return moving


def wait_settled(hub: Hub, timeout: float) -> None:
    """Until every service reports nothing in flight twice in a row, one lag refresh apart."""
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    while True:
        moving = unsettled(hub)
        now = time.monotonic()
        if moving:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since > LAG_REPORT_INTERVAL_S + 0.5:
            return
        if now > deadline:
            raise AssertionError(f"the hub did not settle within {timeout}s: {moving}")
        time.sleep(0.5)
