"""What the fuzzer starts from: a small directory, keys of every role, and cases that reached an agency's inbox.

Everything is made over the services' own HTTP APIs (and the events they exchange), so the fuzzer can aim at ids
that exist, with keys that work, and not only at the 401 and 404 paths.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from tests.fuzz.hub import FuzzHub
from tests.support.apps import ADMIN_KEY, auth

T = TypeVar("T")

# code -> (kind, parent)
NODES: dict[str, tuple[str, str | None]] = {
    "FZ-KEMEN": ("instansi", None),
    "FZ-KANWIL": ("kanwil", "FZ-KEMEN"),
    "FZ-UPT": ("upt", "FZ-KANWIL"),
    "FZ-OTHER": ("instansi", None),
}
AGENCY_NODE = "FZ-KANWIL"
"""The agency key's node: it sees the UPT's cases too, and may delegate to the UPT."""
WRONG_KEY = "sk_agency_not-a-key-anyone-was-given-0123456789abcdef"
CASES = 3
WAIT_S = 30.0


CATEGORY_CODES = ("pupuk", "kesehatan")
"""Categories of the default tree, which routing_svc loads at its first start."""


@dataclass
class Seed:
    keys: dict[str, str]
    """Role -> a working key: admin (the bootstrap key), coordinator, agency (of AGENCY_NODE), channel; and a wrong
    one."""
    receipts: dict[str, str] = field(default_factory=dict)
    """Tracking id -> its receipt, for cases held in AGENCY_NODE's subtree."""
    node_codes: list[str] = field(default_factory=list)
    rule_ids: list[int] = field(default_factory=list)
    policy_ids: list[int] = field(default_factory=list)
    delivery_ids: list[str] = field(default_factory=list)

    @property
    def tracking_ids(self) -> list[str]:
        return list(self.receipts)

    def known(self, path: str, name: str) -> list[str] | list[int]:
        """Existing values for the parameter `name` of the operation at `path` (empty if none are known)."""
        if name == "tracking_id":
            return self.tracking_ids
        if name == "code" and path.startswith("/api/v1/hub/categories/"):
            return list(CATEGORY_CODES)
        if name in ("code", "agency_code", "parent_code", "under"):
            return self.node_codes
        if name == "id":
            for prefix, ids in (
                ("/api/v1/hub/routing-rules/", self.rule_ids),
                ("/api/v1/hub/sla-policies/", self.policy_ids),
                ("/api/v1/notify/deliveries/", self.delivery_ids),
            ):
                if path.startswith(prefix):
                    return ids
        return []


def _ok(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


def _wait(probe: Callable[[], T | None], what: str) -> T:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"seeding: {what} not within {WAIT_S}s")


def seed_hub(hub: FuzzHub) -> Seed:
    admin = auth(ADMIN_KEY)
    with (
        httpx.Client(base_url=hub.urls["routing"], headers=admin, timeout=30) as routing,
        httpx.Client(base_url=hub.urls["intake"], timeout=30) as intake,
        httpx.Client(base_url=hub.urls["agency"], timeout=30) as agency,
        httpx.Client(base_url=hub.urls["notify"], timeout=30) as notify,
    ):
        for code, (kind, parent) in NODES.items():
            body: dict[str, Any] = {
                "code": code,
                "name": f"Kantor {code}",
                "kind": kind,
                "parent_code": parent,
                "timezone": "WIB",
            }
            _ok(routing.post("/api/v1/hub/agencies", json=body), 201)
        rule = {"agency_code": "FZ-UPT", "category": "pemasyarakatan", "region_code": "35"}
        rule_id = _ok(routing.post("/api/v1/hub/routing-rules", json=rule), 201)["id"]
        policy = {"kind": "resolution", "classification": "aspirasi", "working_days": 7}
        policy_id = _ok(routing.post("/api/v1/hub/sla-policies", json=policy), 201)["id"]
        coordinator = _ok(routing.post("/api/v1/hub/api-keys", json={"role": "coordinator"}), 201)["key"]
        agency_key = _ok(routing.post(f"/api/v1/hub/agencies/{AGENCY_NODE}/api-keys", json={}), 201)["key"]
        channel = _ok(routing.post("/api/v1/hub/api-keys", json={"role": "channel", "label": "fuzz"}), 201)["key"]
        seed = Seed(
            keys={
                "admin": ADMIN_KEY,
                "coordinator": coordinator,
                "agency": agency_key,
                "channel": channel,
                "wrong": WRONG_KEY,
            },
            node_codes=list(NODES),
            rule_ids=[rule_id],
            policy_ids=[policy_id],
        )
        # Keys reach agency_svc and notify_svc as events.
        _wait(
            lambda: agency.get("/api/v1/agency/complaints", headers=auth(agency_key)).status_code == 200, "agency key"
        )
        _wait(lambda: notify.get("/api/v1/notify/deliveries", headers=auth(coordinator)).status_code == 200, "key")
        # And to intake: a channel's message to a case that does not exist is 404 once the key is known there.
        probe = {"content": "?", "sender": {"phone": "+6281200001111"}}
        _wait(
            lambda: (
                intake.post("/api/v1/complaints/SPL-0000000000/messages", json=probe, headers=auth(channel)).status_code
                == 404
            ),
            "channel key",
        )
        for n in range(CASES):
            body = {
                "title": f"Pungutan liar di layanan kunjungan {n}",
                "content": "Petugas meminta uang untuk kunjungan keluarga.",
                "classification": "pengaduan",
                "category": "pemasyarakatan",
                "region_code": "3578",
                "reporter": {"name": "Siti Aminah", "email": "siti.aminah@example.test"},
            }
            receipt = _ok(intake.post("/api/v1/complaints", json=body), 201)
            seed.receipts[receipt["tracking_id"]] = receipt["receipt"]

        def inbox() -> set[str] | None:
            page = _ok(agency.get("/api/v1/agency/complaints?limit=200", headers=auth(agency_key)), 200)
            held = {c["tracking_id"] for c in page["items"]}
            return held if held >= set(seed.receipts) else None

        _wait(inbox, "the cases in the agency's inbox")

        def deliveries() -> list[str] | None:
            page = _ok(notify.get("/api/v1/notify/deliveries", headers=auth(coordinator)), 200)
            return [d["id"] for d in page["items"]] or None

        seed.delivery_ids = _wait(deliveries, "a delivery in notify's log")
    return seed
