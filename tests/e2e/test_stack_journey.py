"""The integration test of a deployed stack: one complaint's whole journey over HTTP alone, through the one base URL,
and a report made through the citizens' portal there.

Against a running stack (the compose profile `e2e`, or any deployment):
    SIMPUL_E2E_BASE_URL=http://... SIMPUL_E2E_ADMIN_KEY=sk_admin_... pytest tests/e2e/test_stack_journey.py
Without them, against a `simpul up` hub of its own. Every name it creates carries a fresh run id, so it can run
again and again on the same stack.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.hub import Api, running_hub, wait_for
from tests.support.apps import ADMIN_KEY
from tests.web.browser import Browser

pytestmark = pytest.mark.e2e

BASE_URL_ENV = "SIMPUL_E2E_BASE_URL"
ADMIN_KEY_ENV = "SIMPUL_E2E_ADMIN_KEY"
SLOW_STACK_S = 60.0
"""How long each step may take to show: a cluster under load is slower than the embedded hub."""


@dataclass(frozen=True)
class Stack:
    base_url: str
    admin_key: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base_url = os.environ.get(BASE_URL_ENV)
    if base_url:
        key = os.environ.get(ADMIN_KEY_ENV)
        if not key:
            pytest.fail(f"{BASE_URL_ENV} is set: {ADMIN_KEY_ENV} must hold the stack's admin key")
        yield Stack(base_url.rstrip("/"), key)
        return
    data_dir: Path = tmp_path_factory.mktemp("stack")
    with running_hub(data_dir) as hub:
        yield Stack(hub.base_url, ADMIN_KEY)


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[Api]:
    a = Api(stack, admin_key=stack.admin_key)
    yield a
    a.client.close()


def test_the_stack_is_ready_and_documents_every_service(api: Api) -> None:
    ready = api.ok(api.client.get("/readyz"), 200)
    assert ready["status"] == "ready" and set(ready["checks"]) == {"intake", "routing", "agency", "notify", "web"}
    spec = api.ok(api.client.get("/openapi.json"), 200)
    prefixes = {"/api/v1/complaints", "/api/v1/hub", "/api/v1/agency", "/api/v1/notify"}
    assert all(any(p.startswith(prefix) for p in spec["paths"]) for prefix in prefixes)


def test_a_complaint_from_submission_to_completion(api: Api) -> None:
    run = uuid.uuid4().hex[:8].upper()
    instansi, upt, category = f"E2E-{run}", f"E2E-{run}-UPT", f"e2e-{run.lower()}"
    api.node(instansi, "instansi")
    api.node(upt, "upt", instansi, region_codes=["3578"])
    key = api.key(upt)
    api.category(category)
    rule = {"agency_code": upt, "category": category, "priority": 0}
    api.ok(api.client.post("/api/v1/hub/routing-rules", json=rule, headers=api.admin), 201)

    # An address of its own: notify's daily limit per address holds across runs on the same stack.
    email = f"siti.{run.lower()}@example.test"
    reporter = {"name": "Siti Aminah", "email": email}
    receipt = api.submit(category=category, reporter=reporter)
    tid = receipt["tracking_id"]
    wait_for(lambda: tid in api.inbox(key), timeout=SLOW_STACK_S)
    case = api.ok(api.client.get(f"/api/v1/agency/complaints/{tid}", headers=key), 200)
    assert case["reporter_name"] == "Siti Aminah" and email not in str(case)

    api.ok(api.client.post(f"/api/v1/agency/complaints/{tid}/acknowledge", headers=key), 200)
    wait_for(lambda: api.reporter_view(receipt)["status"] == "in_progress", timeout=SLOW_STACK_S)
    final = {"content": f"Selesai ditangani ({run}).", "is_final": True}
    api.ok(api.client.post(f"/api/v1/agency/complaints/{tid}/follow-ups", json=final, headers=key), 201)
    wait_for(lambda: api.reporter_view(receipt)["status"] == "answered", timeout=SLOW_STACK_S)
    rating = {"score": 5, "comment": "Cepat"}
    api.ok(
        api.client.post(f"/api/v1/complaints/{tid}/rating", json=rating, headers={"X-Receipt": receipt["receipt"]}), 201
    )
    view = wait_for(lambda: (v := api.reporter_view(receipt))["status"] == "completed" and v, timeout=SLOW_STACK_S)
    assert [f["content"] for f in view["follow_ups"]] == [final["content"]]

    hub_case = api.ok(api.client.get(f"/api/v1/hub/complaints/{tid}", headers=api.admin), 200)
    assert hub_case["status"] == "completed"
    assert [h["to_status"] for h in hub_case["history"]].count("dispositioned") == 1

    def reporter_messages() -> list[dict] | None:
        params = {"tracking_id": tid, "limit": 200}
        found = api.ok(api.client.get("/api/v1/notify/deliveries", params=params, headers=api.admin), 200)["items"]
        sent = [d for d in found if d["recipient_kind"] == "reporter" and d["status"] == "sent"]
        return sent if {d["template"] for d in sent} >= {"confirmation", "status_changed", "followup_posted"} else None

    sent = wait_for(reporter_messages, timeout=SLOW_STACK_S)
    assert len({d["id"] for d in sent}) == len(sent)


def test_the_portal_answers_the_base_url_and_takes_a_report(stack: Stack, api: Api) -> None:
    browser = Browser(stack.base_url)
    try:
        start = browser.get("/")
        assert start.status == 200 and start.response.headers["content-type"].startswith("text/html")
        assert start.one("a#start-report")["href"] == "/report"
        # The form from one replica, sent to whichever: its CSRF token and cookie are signed with the shared secret.
        title = f"Bangku taman kota ({uuid.uuid4().hex[:8]})"
        report = {"classification": "aspirasi", "title": title, "content": "Tambahkan bangku di taman kota."}
        done = browser.submit(browser.get("/report"), "report-form", report)
        assert done.status == 200, done.response.text[:2000]
        tracking_id, receipt = done.text("#tracking-id"), done.one("#receipt").get_text()
        assert tracking_id.startswith("SPL-")
        assert api.reporter_view({"tracking_id": tracking_id, "receipt": receipt})["title"] == title
    finally:
        browser.close()
