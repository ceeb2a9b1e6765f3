"""The hub end to end: `simpul up` as real processes, driven over HTTP alone through the one base URL."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from tests.e2e.hub import Api, Hub, hub_on, wait_for
from tests.support.databases import backends

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=backends())
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with hub_on(request.param, tmp_path_factory.mktemp("hub"), prefix="e2e") as h:
        yield h


@pytest.fixture(scope="module")
def api(hub: Hub) -> Iterator[Api]:
    a = Api(hub)
    yield a
    a.client.close()


def test_reference_lists_through_the_base_url_and_the_default_tree_reaches_intake(api: Api) -> None:
    provinces = api.ok(api.client.get("/api/v1/reference/regions"), 200)["items"]
    assert len(provinces) == 38
    categories = api.ok(api.client.get("/api/v1/reference/categories"), 200)
    assert "kesehatan" in {c["code"] for c in categories["items"]}
    etag = api.client.get("/api/v1/reference/agencies").headers["ETag"]
    assert api.client.get("/api/v1/reference/agencies", headers={"If-None-Match": etag}).status_code == 304

    def known_to_intake() -> bool:
        return api.submit(category="rumah-sakit", title="Antrean rumah sakit")["warnings"] == []

    wait_for(known_to_intake)  # the default tree, seeded by routing at start, reached intake as events
    unknown = api.submit(category="bukan-kategori", region_code="9999")["warnings"]
    assert [w["code"] for w in unknown] == ["unknown_category", "unknown_region"]


def test_docs_list_every_service(api: Api) -> None:
    spec = api.ok(api.client.get("/openapi.json"), 200)
    paths = set(spec["paths"])
    for path in (
        "/api/v1/complaints",
        "/api/v1/complaints/{tracking_id}",
        "/api/v1/complaints/{tracking_id}/messages",
        "/api/v1/complaints/{tracking_id}/rating",
        "/api/v1/hub/agencies",
        "/api/v1/hub/agencies/{code}",
        "/api/v1/hub/agencies/{code}/api-keys",
        "/api/v1/hub/routing-rules",
        "/api/v1/hub/routing-rules/{id}",
        "/api/v1/hub/categories",
        "/api/v1/hub/categories/{code}",
        "/api/v1/reference/categories",
        "/api/v1/reference/regions",
        "/api/v1/reference/agencies",
        "/api/v1/hub/complaints",
        "/api/v1/hub/complaints/{tracking_id}",
        "/api/v1/hub/complaints/{tracking_id}/decisions",
        "/api/v1/hub/stats/agencies",
        "/api/v1/agency/complaints",
        "/api/v1/agency/complaints/{tracking_id}",
        "/api/v1/agency/complaints/{tracking_id}/acknowledge",
        "/api/v1/agency/complaints/{tracking_id}/follow-ups",
        "/api/v1/agency/complaints/{tracking_id}/forward",
        "/api/v1/agency/complaints/{tracking_id}/delegate",
        "/api/v1/notify/deliveries",
        "/api/v1/complaints/{tracking_id}/attachments",
        "/api/v1/complaints/{tracking_id}/attachments/{attachment_id}",
        "/api/v1/agency/complaints/{tracking_id}/attachments",
        "/api/v1/agency/complaints/{tracking_id}/attachments/{attachment_id}",
        "/api/v1/hub/complaints/{tracking_id}/attachments/{attachment_id}",
    ):
        assert path in paths, f"{path} missing from the merged docs"
    docs = api.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_complaint_from_submission_to_completion(api: Api, hub: Hub) -> None:
    api.node("KEMENKUMHAM", "instansi")
    api.node("KANWIL-JATIM", "kanwil", "KEMENKUMHAM", region_codes=["35"])
    api.node("LAPAS-SBY", "upt", "KANWIL-JATIM", region_codes=["3578"])
    upt_key = api.key("LAPAS-SBY")
    kanwil_key = api.key("KANWIL-JATIM")
    rule = {"agency_code": "LAPAS-SBY", "category": "pemasyarakatan", "region_code": "35", "priority": 0}
    api.ok(api.client.post("/api/v1/hub/routing-rules", json=rule, headers=api.admin), 201)

    started = time.monotonic()
    receipt = api.submit()
    tid = receipt["tracking_id"]
    wait_for(lambda: tid in api.inbox(upt_key))
    print(f"\nsubmission to inbox: {time.monotonic() - started:.3f}s")
    assert tid in api.inbox(kanwil_key), "a Kanwil sees its UPT's cases"

    case = api.ok(api.client.get(f"/api/v1/agency/complaints/{tid}", headers=upt_key), 200)
    assert case["reporter_name"] == "Siti Aminah"
    assert "email" not in str(case).lower() or "siti@example.test" not in str(case)

    api.ok(api.client.post(f"/api/v1/agency/complaints/{tid}/acknowledge", headers=upt_key), 200)
    wait_for(lambda: api.reporter_view(receipt)["status"] == "in_progress")
    final = {"content": "Pungutan dihentikan; petugas diperiksa.", "is_final": True}
    api.ok(api.client.post(f"/api/v1/agency/complaints/{tid}/follow-ups", json=final, headers=upt_key), 201)

    view = wait_for(lambda: (v := api.reporter_view(receipt))["status"] == "answered" and v)
    assert [f["content"] for f in view["follow_ups"]] == [final["content"]]
    api.ok(
        api.client.post(
            f"/api/v1/complaints/{tid}/rating",
            json={"score": 5, "comment": "Cepat"},
            headers={"X-Receipt": receipt["receipt"]},
        ),
        201,
    )
    view = wait_for(lambda: (v := api.reporter_view(receipt))["status"] == "completed" and v)
    statuses = [t["status"] for t in view["timeline"]]
    assert statuses[0] == "submitted" and statuses[-1] == "completed"

    hub_case = api.ok(api.client.get(f"/api/v1/hub/complaints/{tid}", headers=api.admin), 200)
    assert hub_case["status"] == "completed"
    dispositions = [h for h in hub_case["history"] if h["to_status"] == "dispositioned"]
    assert len(dispositions) == 1 and dispositions[0]["rule_id"], "the disposition records the rule that made it"

    mail_dir = hub.data_dir / "mail"
    expected = {"dispositioned", "in_progress", "answered", "completed"}

    def mails() -> list[EmailMessage]:
        found = []
        for path in sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []:
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            body = msg.get_body(preferencelist=("plain",))
            if body is not None and tid in body.get_content():
                found.append(msg)
        return found

    # One message per status change after submission, and one for the follow-up.
    def enough() -> list[EmailMessage] | None:
        found = mails()
        return found if len(found) >= len(expected) + 1 else None

    got = wait_for(enough)
    assert all(m["To"] == "siti@example.test" for m in got)
    assert len({m["Message-ID"] for m in got}) == len(got)


def test_triage_then_coordinator_disposes(api: Api) -> None:
    api.node("KEMENDIKBUD", "instansi")
    key = api.key("KEMENDIKBUD")
    receipt = api.submit(category="tidak-ada-aturan", region_code="9471", title="Sekolah rusak")
    tid = receipt["tracking_id"]

    def in_triage() -> bool:
        page = api.ok(api.client.get("/api/v1/hub/complaints?status=submitted&limit=200", headers=api.admin), 200)
        return tid in [c["tracking_id"] for c in page["items"]]

    wait_for(in_triage)
    assert tid not in api.inbox(key)
    decision = {"action": "dispose", "agency_code": "KEMENDIKBUD", "reason": "Kewenangan pendidikan"}
    api.ok(api.client.post(f"/api/v1/hub/complaints/{tid}/decisions", json=decision, headers=api.admin), 200)
    wait_for(lambda: tid in api.inbox(key))
    bad = api.client.post(
        f"/api/v1/hub/complaints/{tid}/decisions", json={"action": "postpone", "reason": "x"}, headers=api.admin
    )
    assert bad.status_code == 409 and bad.json()["error"]["code"] == "illegal_transition"


def test_forwarding_delegation_and_scope(api: Api) -> None:
    api.node("KEMENHUB", "instansi")
    api.node("KANWIL-HUB", "kanwil", "KEMENHUB")
    api.node("UPT-HUB", "upt", "KANWIL-HUB")
    api.node("PEMKOT-SBY", "instansi")
    hub_key, kanwil_key, upt_key, pemkot_key = (api.key(c) for c in ("KEMENHUB", "KANWIL-HUB", "UPT-HUB", "PEMKOT-SBY"))

    forwarded = api.submit(agency_code="UPT-HUB", category="transport")["tracking_id"]
    wait_for(lambda: forwarded in api.inbox(upt_key))
    body = {"reason": "Jalan kota, bukan wewenang kami", "suggested_agency_code": "PEMKOT-SBY"}
    api.ok(api.client.post(f"/api/v1/agency/complaints/{forwarded}/forward", json=body, headers=upt_key), 202)
    wait_for(lambda: forwarded in api.inbox(pemkot_key))
    assert forwarded not in api.inbox(upt_key)
    assert api.client.get(f"/api/v1/agency/complaints/{forwarded}", headers=upt_key).status_code == 404

    delegated = api.submit(agency_code="KANWIL-HUB", category="transport")["tracking_id"]
    wait_for(lambda: delegated in api.inbox(kanwil_key))
    assert api.client.get(f"/api/v1/agency/complaints/{delegated}", headers=upt_key).status_code == 404
    api.ok(
        api.client.post(
            f"/api/v1/agency/complaints/{delegated}/delegate", json={"agency_code": "UPT-HUB"}, headers=kanwil_key
        ),
        202,
    )
    wait_for(lambda: delegated in api.inbox(upt_key))
    assert delegated in api.inbox(hub_key), "the ministry still sees its subtree"

    outsider = api.submit(agency_code="PEMKOT-SBY", category="transport")["tracking_id"]
    wait_for(lambda: outsider in api.inbox(pemkot_key))
    for method, path, payload in (
        ("GET", "", None),
        ("POST", "/acknowledge", None),
        ("POST", "/follow-ups", {"content": "x", "is_final": False}),
        ("POST", "/forward", {"reason": "x"}),
        ("POST", "/delegate", {"agency_code": "UPT-HUB"}),
    ):
        r = api.client.request(method, f"/api/v1/agency/complaints/{outsider}{path}", json=payload, headers=upt_key)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["error"]["code"] == "not_found"


def test_hostile_input_gets_a_json_refusal_never_a_5xx(api: Api, hub: Hub) -> None:
    admin = api.admin
    probes: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/v1/complaints", {"content": b"{not json", "headers": {"content-type": "application/json"}}),
        ("POST", "/api/v1/complaints", {"json": [1, 2, 3]}),
        (
            "POST",
            "/api/v1/complaints",
            {"json": {"title": "x" * 100_000, "content": "y", "classification": "aspirasi"}},
        ),
        (
            "POST",
            "/api/v1/complaints",
            {"content": b"[" * 5000 + b"]" * 5000, "headers": {"content-type": "application/json"}},
        ),
        ("POST", "/api/v1/complaints", {"json": {"title": "a\u0000b", "content": "c", "classification": "aspirasi"}}),
        ("GET", "/api/v1/complaints/..%2F..%2Fetc%2Fpasswd", {"headers": {"X-Receipt": "x"}}),
        ("GET", "/api/v1/complaints/SPL-AAAA", {"headers": [(b"X-Receipt", b"\xff\xfe")]}),
        ("GET", "/api/v1/hub/agencies/%00", {"headers": admin}),
        ("GET", "/api/v1/hub/agencies?limit=99999999999999999999", {"headers": admin}),
        ("POST", "/api/v1/hub/agencies", {"json": {"code": "A.B>", "name": "x", "kind": "x"}, "headers": admin}),
        ("GET", "/api/v1/hub/complaints?status=%27%3B--", {"headers": admin}),
        ("DELETE", "/api/v1/hub/routing-rules/%27%20OR%201%3D1", {"headers": admin}),
        ("GET", "/api/v1/agency/complaints", {"headers": {"Authorization": "Bearer"}}),
        ("GET", "/api/v1/notify/deliveries/../../etc", {"headers": admin}),
        ("PUT", "/api/v1/complaints", {}),
        ("GET", "/elsewhere", {}),
    ]
    for method, path, kwargs in probes:
        r = api.client.request(method, path, **kwargs)
        assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text[:200])
        if r.url.path.startswith("/api/"):
            assert r.json()["error"]["code"], (method, path, r.text[:200])
        else:  # outside the API, the portal answers with a page of its own
            assert r.headers["content-type"].startswith("text/html"), (method, path, r.headers)
            assert r.status_code == 404 and "Traceback" not in r.text, (method, path, r.text[:200])
    assert "Traceback" not in hub.output()
