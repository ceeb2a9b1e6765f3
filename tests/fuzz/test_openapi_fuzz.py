"""Every operation of every service, fuzzed from its own OpenAPI document with schemathesis, under real keys.

Each example goes over HTTP to the running service and is judged by every built-in check: no 5xx, a documented
status code, the documented content type, headers and response schema, invalid data refused, valid data not
refused, authentication not ignored. Positive examples aim half of their ids at things that exist, so the fuzzer
gets past the 404s into the handlers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import strategies as st
from schemathesis import Case

from tests.fuzz.hub import REQUEST_TIMEOUT_S, SERVICES, FuzzHub
from tests.fuzz.schemas import DOCUMENTS, SCHEMAS
from tests.fuzz.seed import Seed
from tests.fuzz.sms import SMS_CALLERS, SMS_PATH, SignedForRequests
from tests.fuzz.tally import count_request
from tests.support.apps import auth

CALLERS: dict[str, list[str | None]] = {
    "intake": [None],
    "routing": ["admin", "admin", "admin", "coordinator", "agency", "wrong", None],
    "agency": ["agency", "agency", "agency", "admin", "coordinator", "wrong", None],
    "notify": ["coordinator", "coordinator", "admin", "agency", "wrong", None],
}
"""Who calls, per service: mostly a role that reaches the service's logic, sometimes one it must refuse."""


def _is_positive(case: Case) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_positive


def _aim_at_seeded(case: Case, data: st.DataObject, seeded: Seed, headers: dict[str, str]) -> None:
    path = case.operation.path
    for params in (case.path_parameters, case.query):
        for name in list(params or {}):
            known = seeded.known(path, name)
            if known and data.draw(st.booleans(), label=f"existing {name}"):
                params[name] = data.draw(st.sampled_from(known), label=name)
    tracking_id = (case.path_parameters or {}).get("tracking_id")
    if tracking_id in seeded.receipts and data.draw(st.booleans(), label="its receipt"):
        headers["X-Receipt"] = seeded.receipts[tracking_id]
    key = case.headers.get("Idempotency-Key") if case.headers else None
    if key is not None:
        # A retry is the same key with the same body; two different requests need two keys.
        headers["Idempotency-Key"] = f"{key[:160]}-{uuid.uuid4().hex}"


def fuzz(service: str) -> Callable[..., None]:
    """The test for one service: one pytest item per operation, each running the coverage and fuzzing phases."""
    schema = SCHEMAS[service]

    @schema.parametrize()
    @schema.given(data=st.data())
    def test(case: Case, data: st.DataObject, fuzz_hub: FuzzHub, seeded: Seed) -> None:
        sms = case.operation.path == SMS_PATH
        role = data.draw(st.sampled_from(SMS_CALLERS if sms else CALLERS[service]), label="caller")
        headers = auth(seeded.keys[role]) if role else {}
        if _is_positive(case):
            _aim_at_seeded(case, data, seeded, headers)
        count_request(fuzz_hub, service, "generated")
        signed: dict[str, Any] = {"auth": SignedForRequests()} if sms else {}
        case.call_and_validate(base_url=fuzz_hub.urls[service], headers=headers, timeout=REQUEST_TIMEOUT_S, **signed)

    test.__doc__ = f"{service}: every operation answers every generated request as its document says."
    return test


test_intake = fuzz("intake")
test_routing = fuzz("routing")
test_agency = fuzz("agency")
test_notify = fuzz("notify")


def test_served_documents_are_the_fuzzed_ones(fuzz_hub: FuzzHub) -> None:
    for svc in SERVICES:
        served: Any = httpx.get(f"{fuzz_hub.urls[svc.name]}/openapi.json", timeout=REQUEST_TIMEOUT_S).json()
        assert served == DOCUMENTS[svc.name], svc.name
