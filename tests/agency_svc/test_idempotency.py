"""Safe retries of the agency's POSTs: an Idempotency-Key does the action once and gives the first answer again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select

from agency_svc.models import IDEMPOTENCY, KIT, WebhookDelivery
from shared.db.expiry import purge_expired
from shared.http.idempotency import REPLAYED_HEADER
from tests.agency_svc.conftest import Agency, new_tid

BASE = "/api/v1/agency/complaints"
HOOKS = "/api/v1/agency/webhooks"
HOOK = {"url": "https://sistem.lapas-sby.example/hooks/simpul", "event_types": ["reporter.replied"]}
FOLLOW_UP = {"content": "Sedang kami periksa.", "is_final": False}


def keyed(tree: Agency, who: str, key: str) -> dict[str, str]:
    return {**tree.h(who), "Idempotency-Key": key}


async def disposed(tree: Agency, holder: str) -> str:
    tid = new_tid()
    await tree.dispose(tid, holder, 1)
    await tree.wait_case(holder, tid, status="dispositioned", agency_code=holder, case_version=1)
    return tid


async def count(tree: Agency, table: Any, *where: Any) -> int:
    async with tree.runtime.db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one())


async def effects(tree: Agency) -> tuple[int, int]:
    """What an action leaves behind: audit entries and outbox events."""
    return await count(tree, KIT.audit_log), await count(tree, KIT.outbox)


async def follow_ups_of(tree: Agency, tid: str) -> list[str]:
    return [f["content"] for f in (await tree.case_json("UPT", tid))["follow_ups"]]


async def test_a_retried_follow_up_is_stored_once_and_answered_the_same(tree: Agency) -> None:
    tid = await disposed(tree, "UPT")
    url = f"{BASE}/{tid}/follow-ups"
    first = await tree.client.post(url, json=FOLLOW_UP, headers=keyed(tree, "UPT", "retry-1"))
    assert first.status_code == 201, first.text
    before = await effects(tree)
    # The client timed out and sends it again; the same JSON spelled otherwise is the same request.
    again = await tree.client.post(
        url,
        content=b'{ "is_final": false,  "content": "Sedang kami periksa." }',
        headers={**keyed(tree, "UPT", "retry-1"), "Content-Type": "application/json"},
    )
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers[REPLAYED_HEADER] == "true" and REPLAYED_HEADER not in first.headers
    assert await follow_ups_of(tree, tid) == [FOLLOW_UP["content"]]
    assert await effects(tree) == before, "no second audit entry, no second event"


async def test_the_same_key_with_another_body_or_case_is_422(tree: Agency) -> None:
    tid, other = await disposed(tree, "UPT"), await disposed(tree, "UPT")
    headers = keyed(tree, "UPT", "same-key")
    assert (await tree.client.post(f"{BASE}/{tid}/follow-ups", json=FOLLOW_UP, headers=headers)).status_code == 201
    for url, body in (
        (f"{BASE}/{tid}/follow-ups", {**FOLLOW_UP, "content": "Isi lain."}),
        (f"{BASE}/{other}/follow-ups", FOLLOW_UP),
    ):
        r = await tree.client.post(url, json=body, headers=headers)
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "idempotency_key_mismatch"
        assert (
            error["message"].startswith("Idempotency-Key ini sudah dipakai") and "different request" in error["message"]
        )
    assert await follow_ups_of(tree, tid) == [FOLLOW_UP["content"]]
    assert (await tree.case_json("UPT", other))["follow_ups"] == []


async def test_a_key_belongs_to_its_api_key_and_route(tree: Agency) -> None:
    tid = await disposed(tree, "UPT")
    url = f"{BASE}/{tid}/follow-ups"
    assert (await tree.client.post(url, json=FOLLOW_UP, headers=keyed(tree, "UPT", "k"))).status_code == 201
    # The Kanwil's key with the same Idempotency-Key is another request: it is done, not replayed or refused.
    r = await tree.client.post(url, json=FOLLOW_UP, headers=keyed(tree, "KANWIL", "k"))
    assert r.status_code == 201 and REPLAYED_HEADER not in r.headers
    r = await tree.client.post(f"{BASE}/{tid}/acknowledge", headers=keyed(tree, "UPT", "k"))
    assert r.status_code == 200 and REPLAYED_HEADER not in r.headers
    r = await tree.client.post(url, json=FOLLOW_UP, headers=keyed(tree, "UPT", "k"))
    assert r.status_code == 201 and r.headers[REPLAYED_HEADER] == "true"
    assert len(await follow_ups_of(tree, tid)) == 2


@pytest.mark.parametrize(
    "body", [b"[" * 100_000, b'{"a": "\\ud800"}', b"not json"], ids=["nested", "surrogate", "text"]
)
async def test_any_body_with_a_key_is_an_answer_not_a_500(tree: Agency, body: bytes) -> None:
    """acknowledge takes no body model, so whatever comes reaches the key's hash as it came."""
    tid = await disposed(tree, "UPT")
    url = f"{BASE}/{tid}/acknowledge"
    first = await tree.client.post(url, content=body, headers=keyed(tree, "UPT", "ack-odd-body"))
    again = await tree.client.post(url, content=body, headers=keyed(tree, "UPT", "ack-odd-body"))
    assert first.status_code == 200, first.text
    assert (again.status_code, again.headers[REPLAYED_HEADER]) == (200, "true")


@pytest.mark.parametrize(
    "key",
    [b"x" * 256, b"tab\there", "kunci-é".encode(), b""],
    ids=["too-long", "control", "not-ascii", "empty"],
)
async def test_a_key_that_is_not_1_to_255_printable_ascii_is_422(tree: Agency, key: bytes) -> None:
    tid = await disposed(tree, "UPT")
    headers = [(k.encode(), v.encode()) for k, v in tree.h("UPT").items()] + [(b"Idempotency-Key", key)]
    r = await tree.client.post(f"{BASE}/{tid}/follow-ups", json=FOLLOW_UP, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"
    assert await follow_ups_of(tree, tid) == []
    longest = await tree.client.post(f"{BASE}/{tid}/follow-ups", json=FOLLOW_UP, headers=keyed(tree, "UPT", "~" * 255))
    assert longest.status_code == 201, longest.text


async def test_two_concurrent_requests_with_one_key_act_once(tree: Agency) -> None:
    tid = await disposed(tree, "UPT")
    url = f"{BASE}/{tid}/follow-ups"
    answers = await asyncio.gather(
        *(tree.client.post(url, json=FOLLOW_UP, headers=keyed(tree, "UPT", "twice-at-once")) for _ in range(4))
    )
    assert {r.status_code for r in answers} == {201}, [r.text for r in answers]
    assert len({r.json()["followup_id"] for r in answers}) == 1
    assert sum(r.headers.get(REPLAYED_HEADER) == "true" for r in answers) == 3
    assert await follow_ups_of(tree, tid) == [FOLLOW_UP["content"]]


async def test_an_expired_key_is_purged_and_acts_again(tree: Agency) -> None:
    tid = await disposed(tree, "UPT")
    url = f"{BASE}/{tid}/follow-ups"
    assert (await tree.client.post(url, json=FOLLOW_UP, headers=keyed(tree, "UPT", "old"))).status_code == 201
    assert await purge_expired(tree.runtime.db, IDEMPOTENCY, datetime.now(UTC)) == 0, "kept for 24 hours"
    assert await purge_expired(tree.runtime.db, IDEMPOTENCY, datetime.now(UTC) + timedelta(hours=25)) == 1
    r = await tree.client.post(url, json=FOLLOW_UP, headers=keyed(tree, "UPT", "old"))
    assert r.status_code == 201 and REPLAYED_HEADER not in r.headers
    assert len(await follow_ups_of(tree, tid)) == 2


async def test_a_refusal_is_not_stored_and_a_retry_is_judged_again(tree: Agency) -> None:
    tid = await disposed(tree, "KANWIL")
    headers = keyed(tree, "KANWIL", "delegate-1")
    r = await tree.client.post(f"{BASE}/{tid}/delegate", json={"agency_code": "KEMEN"}, headers=headers)
    assert r.status_code == 404
    assert await count(tree, IDEMPOTENCY) == 0
    r = await tree.client.post(f"{BASE}/{tid}/delegate", json={"agency_code": "UPT"}, headers=headers)
    assert r.status_code == 202 and REPLAYED_HEADER not in r.headers, r.text
    r = await tree.client.post(f"{BASE}/{tid}/delegate", json={"agency_code": "UPT"}, headers=headers)
    assert r.status_code == 202 and r.headers[REPLAYED_HEADER] == "true"


async def test_the_stored_answer_is_sealed(tree: Agency) -> None:
    r = await tree.client.post(HOOKS, json={**HOOK, "secret": "rahasia-penerima-123"}, headers=keyed(tree, "UPT", "h"))
    assert r.status_code == 201, r.text
    async with tree.runtime.db.engine.connect() as conn:
        [stored] = (await conn.execute(select(IDEMPOTENCY.c.response_sealed))).scalars().all()
    assert "rahasia-penerima-123" not in stored and r.json()["id"] not in stored


@dataclass(frozen=True)
class Action:
    name: str
    prepare: Callable[[Agency], Awaitable[tuple[str, str, Any]]]
    """Gives who posts, the path, and the JSON body."""


async def _acknowledge(tree: Agency) -> tuple[str, str, Any]:
    return "UPT", f"{BASE}/{await disposed(tree, 'UPT')}/acknowledge", None


async def _follow_up(tree: Agency) -> tuple[str, str, Any]:
    return "UPT", f"{BASE}/{await disposed(tree, 'UPT')}/follow-ups", {"content": "Selesai.", "is_final": True}


async def _forward(tree: Agency) -> tuple[str, str, Any]:
    body = {"reason": "Bukan wewenang kami", "suggested_agency_code": "OTHER"}
    return "UPT", f"{BASE}/{await disposed(tree, 'UPT')}/forward", body


async def _delegate(tree: Agency) -> tuple[str, str, Any]:
    return "KANWIL", f"{BASE}/{await disposed(tree, 'KANWIL')}/delegate", {"agency_code": "UPT"}


async def _create_webhook(tree: Agency) -> tuple[str, str, Any]:
    return "UPT", HOOKS, HOOK


async def _redeliver(tree: Agency) -> tuple[str, str, Any]:
    r = await tree.client.post(HOOKS, json=HOOK, headers=tree.h("UPT"))
    assert r.status_code == 201, r.text
    hook = r.json()["id"]
    now = datetime.now(UTC)
    async with tree.runtime.db.engine.begin() as conn:
        delivery_id = (
            await conn.execute(
                insert(WebhookDelivery)
                .values(
                    endpoint_id=hook,
                    tracking_id=new_tid(),
                    event_id=str(uuid.uuid4()),
                    event_type="reporter.replied",
                    payload="{}",
                    status="failed",
                    attempts=3,
                    created_at=now,
                    give_up_at=now,
                    finished_at=now,
                )
                .returning(WebhookDelivery.id)
            )
        ).scalar_one()
    return "UPT", f"{HOOKS}/{hook}/deliveries/{delivery_id}/redeliver", None


ACTIONS = [
    Action("acknowledge", _acknowledge),
    Action("follow-up", _follow_up),
    Action("forward", _forward),
    Action("delegate", _delegate),
    Action("webhook", _create_webhook),
    Action("redeliver", _redeliver),
]


@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
async def test_each_post_retried_with_its_key_is_done_once(tree: Agency, action: Action) -> None:
    who, path, body = await action.prepare(tree)
    headers = keyed(tree, who, f"{action.name}-{uuid.uuid4()}")

    async def post() -> httpx.Response:
        return await tree.client.post(path, json=body, headers=headers)

    first = await post()
    assert first.status_code in (200, 201, 202), first.text
    before = await effects(tree)
    again = await post()
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers[REPLAYED_HEADER] == "true"
    assert await effects(tree) == before, "nothing done twice"
    if action.name == "webhook":
        assert len((await tree.client.get(HOOKS, headers=tree.h(who))).json()["items"]) == 1


async def test_every_agency_post_declares_the_header(tree: Agency) -> None:
    paths = tree.app.openapi()["paths"]
    posts = {path: item["post"] for path, item in paths.items() if "post" in item}
    assert len(posts) == 7, sorted(posts)
    for path, operation in posts.items():
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in names, path
