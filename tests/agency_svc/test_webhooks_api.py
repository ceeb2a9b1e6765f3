"""Registering webhooks: validation, the key's own node only, the secret shown once and sealed, the audit trail."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from agency_svc.models import KIT, WebhookEndpoint
from shared.audit import Verdict, verify_database
from shared.crypto import Sealer
from tests.agency_svc.conftest import Agency
from tests.support.apps import ADMIN_KEY, TEST_ENCRYPTION_KEY, auth

BASE = "/api/v1/agency/webhooks"
URL = "https://sistem.lapas-sby.example/hooks/simpul?token=receiver-token-123"
ALL = ["complaint.dispositioned", "complaint.status_changed", "reporter.replied"]


async def create(tree: Agency, who: str, **body: Any) -> dict[str, Any]:
    r = await tree.client.post(BASE, json={"url": URL, "event_types": ALL, **body}, headers=tree.h(who))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_register_read_change_and_delete_a_webhook(tree: Agency) -> None:
    given = await create(tree, "UPT", secret="a-secret-of-my-own-choosing", event_types=["reporter.replied"] * 2)
    made = await create(tree, "UPT", url="http://hooks.upt.example:8080/x")
    assert given["secret"] == "a-secret-of-my-own-choosing" and given["event_types"] == ["reporter.replied"]
    assert made["secret"].startswith("whsec_") and made["secret"] != given["secret"]
    assert given["agency_code"] == "UPT" and given["url"] == URL

    listed = (await tree.client.get(BASE, headers=tree.h("UPT"))).json()["items"]
    assert [w["id"] for w in listed] == [given["id"], made["id"]]
    assert all("secret" not in w for w in listed)
    one = (await tree.client.get(f"{BASE}/{given['id']}", headers=tree.h("UPT"))).json()
    assert one == {k: v for k, v in given.items() if k != "secret"}

    patch = {"url": "https://baru.example/hook", "event_types": ["complaint.status_changed"], "secret": "x" * 16}
    r = await tree.client.patch(f"{BASE}/{given['id']}", json=patch, headers=tree.h("UPT"))
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["url"] == patch["url"] and changed["event_types"] == patch["event_types"] and "secret" not in changed

    r = await tree.client.delete(f"{BASE}/{given['id']}", headers=tree.h("UPT"))
    assert r.status_code == 204
    assert (await tree.client.get(f"{BASE}/{given['id']}", headers=tree.h("UPT"))).status_code == 404
    assert [w["id"] for w in (await tree.client.get(BASE, headers=tree.h("UPT"))).json()["items"]] == [made["id"]]


INVALID: list[dict[str, Any]] = [
    {"url": "ftp://files.example/x", "event_types": ALL},
    {"url": "not a url", "event_types": ALL},
    {"url": "https://", "event_types": ALL},
    {"url": "https://user:pw@host.example/x", "event_types": ALL},
    {"url": "https://host.example:99999/x", "event_types": ALL},
    {"url": "https://host.example/" + "a" * 2000, "event_types": ALL},
    {"url": URL, "event_types": []},
    {"url": URL, "event_types": ["complaint.submitted"]},
    {"url": URL, "event_types": ALL, "secret": "short"},
    {"url": URL, "event_types": ALL, "secret": "has a space in it ok"},
    {"event_types": ALL},
]


async def test_invalid_registrations_and_changes_answer_422(tree: Agency) -> None:
    for body in INVALID:
        r = await tree.client.post(BASE, json=body, headers=tree.h("UPT"))
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", (body, r.text)
    assert (await tree.client.get(BASE, headers=tree.h("UPT"))).json()["items"] == []
    created = await create(tree, "UPT")
    patch: dict[str, Any]
    for patch in ({"url": "ftp://files.example/x"}, {"event_types": []}, {"secret": "short"}):
        r = await tree.client.patch(f"{BASE}/{created['id']}", json=patch, headers=tree.h("UPT"))
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", (patch, r.text)
    kept = (await tree.client.get(f"{BASE}/{created['id']}", headers=tree.h("UPT"))).json()
    assert kept["url"] == URL and kept["event_types"] == ALL


async def test_a_key_reaches_only_its_own_nodes_webhooks(tree: Agency) -> None:
    mine = await create(tree, "KANWIL")
    paths = [
        ("GET", f"{BASE}/{mine['id']}", None),
        ("PATCH", f"{BASE}/{mine['id']}", {"url": "https://elsewhere.example/"}),
        ("GET", f"{BASE}/{mine['id']}/deliveries", None),
        ("GET", f"{BASE}/{mine['id']}/deliveries/1", None),
        ("POST", f"{BASE}/{mine['id']}/deliveries/1/redeliver", None),
        ("DELETE", f"{BASE}/{mine['id']}", None),
    ]
    for who in ("UPT", "KEMEN", "OTHER"):  # a descendant, an ancestor, a stranger: none of them sees it
        assert (await tree.client.get(BASE, headers=tree.h(who))).json()["items"] == []
        for method, path, body in paths:
            r = await tree.client.request(method, path, json=body, headers=tree.h(who))
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (who, method, path)
    for method, path, body in paths[:1]:
        assert (await tree.client.request(method, path, json=body, headers=tree.h("coordinator"))).status_code == 403
        assert (await tree.client.request(method, path, json=body, headers=auth(ADMIN_KEY))).status_code == 403
        assert (await tree.client.request(method, path, json=body)).status_code == 401
    r = await tree.client.get(f"{BASE}/{mine['id']}", headers=tree.h("KANWIL"))
    assert r.status_code == 200 and r.json()["url"] == URL


async def test_the_secret_is_sealed_at_rest_and_kept_out_of_the_audit_trail(tree: Agency) -> None:
    created = await create(tree, "UPT")
    await tree.client.patch(f"{BASE}/{created['id']}", json={"secret": "the-second-secret-0000"}, headers=tree.h("UPT"))
    await tree.client.patch(f"{BASE}/{created['id']}", json={"url": URL}, headers=tree.h("UPT"))  # no change
    await tree.client.delete(f"{BASE}/{created['id']}", headers=tree.h("OTHER"))  # not its own: 404, no entry

    async with tree.runtime.db.session() as session:
        stored = (await session.execute(select(WebhookEndpoint))).scalar_one()
    assert created["secret"] not in stored.secret_sealed
    assert Sealer([TEST_ENCRYPTION_KEY]).open(stored.secret_sealed) == "the-second-secret-0000"

    await tree.client.delete(f"{BASE}/{created['id']}", headers=tree.h("UPT"))
    log = KIT.audit_log
    async with tree.runtime.db.engine.connect() as conn:
        rows = list((await conn.execute(select(log).order_by(log.c.seq))).all())
    assert [(r.action, r.target_type, r.target_id, r.actor) for r in rows] == [
        ("agency.webhook_create", "webhook", created["id"], "agency:UPT"),
        ("agency.webhook_update", "webhook", created["id"], "agency:UPT"),
        ("agency.webhook_delete", "webhook", created["id"], "agency:UPT"),
    ]
    details = [json.loads(r.details) for r in rows]
    assert all(d["agency_code"] == "UPT" and d["url"] == "https://sistem.lapas-sby.example" for d in details)
    assert details[1]["changed"] == ["secret"]
    for row in rows:
        text = str(tuple(row))
        assert created["secret"] not in text and "the-second-secret" not in text and "receiver-token" not in text
    settings = tree.runtime.settings
    assert await verify_database(settings.resolved_database_url(), settings.database_schema) == Verdict(3)


async def test_a_node_may_register_only_so_many_webhooks(tree: Agency) -> None:
    limit = tree.runtime.settings.webhook_endpoints_per_node  # type: ignore[attr-defined]
    for _ in range(limit):
        await create(tree, "UPT")
    r = await tree.client.post(BASE, json={"url": URL, "event_types": ALL}, headers=tree.h("UPT"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "webhook_limit_reached"
    await create(tree, "KANWIL")  # another node's count is its own


async def test_every_webhook_path_is_documented(tree: Agency) -> None:
    spec = (await tree.client.get("/openapi.json")).json()
    paths = {
        BASE: {"get", "post"},
        f"{BASE}/deliveries": {"get"},
        f"{BASE}/{{webhook_id}}": {"get", "patch", "delete"},
        f"{BASE}/{{webhook_id}}/deliveries": {"get"},
        f"{BASE}/{{webhook_id}}/deliveries/{{delivery_id}}": {"get"},
        f"{BASE}/{{webhook_id}}/deliveries/{{delivery_id}}/redeliver": {"post"},
    }
    for path, methods in paths.items():
        assert set(spec["paths"][path]) == methods, path
        for method in methods:
            op = spec["paths"][path][method]
            assert op["tags"] == ["webhooks"] and op.get("description"), (path, method)
            assert {"401", "403"} <= set(op["responses"]), (path, method)
