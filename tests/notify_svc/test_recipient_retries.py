"""Registering a coordinator is safe to retry: the same Idempotency-Key and body answer the same, once."""

from __future__ import annotations

from shared.http.idempotency import REPLAYED_HEADER
from tests.notify_svc.conftest import Notify

BODY = {"role": "coordinator", "level": 2, "email": "rina@hub.example", "name": "Rina"}


async def test_a_retried_registration_is_done_once_and_answered_the_same(notify: Notify) -> None:
    headers = {**notify.admin, "Idempotency-Key": "daftar-rina"}
    first = await notify.client.post("/api/v1/notify/recipients", json=BODY, headers=headers)
    again = await notify.client.post("/api/v1/notify/recipients", json=BODY, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json() and again.headers[REPLAYED_HEADER] == "true"
    listed = await notify.client.get("/api/v1/notify/recipients", params={"level": 2}, headers=notify.admin)
    assert [r["email"] for r in listed.json()["items"]] == ["rina@hub.example"]

    other = await notify.client.post("/api/v1/notify/recipients", json={**BODY, "level": 3}, headers=headers)
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency_key_mismatch")
    without_key = await notify.client.post("/api/v1/notify/recipients", json=BODY, headers=notify.admin)
    assert (without_key.status_code, without_key.json()["error"]["code"]) == (409, "recipient_exists")
