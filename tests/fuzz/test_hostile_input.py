"""Hostile input, explicitly, against every operation it fits, next to what the fuzzer generates.

Every answer must be one the operation documents (status, content type, schema) and never a 5xx, and must come
within the request timeout (no hang). Where the right answer is certain, its status and error code are asserted too.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from shared.http.limits import DEFAULT_MAX_BODY_BYTES
from tests.fuzz.explicit import VALID_BODIES, Client, Target, error_code, targets
from tests.fuzz.hostile import (
    HOSTILE_FIELD_VALUES,
    HOSTILE_IDS,
    HOSTILE_QUERY_VALUES,
    LONE_SURROGATES,
    SQL,
    deeply_nested,
    deeply_nested_object,
    huge_json,
    wide_json,
)
from tests.fuzz.hub import FuzzHub
from tests.fuzz.seed import Seed

JSON = {"Content-Type": "application/json"}
MULTI_MB = 2 * 1024 * 1024
HUGE = huge_json(MULTI_MB)


@pytest.fixture(scope="module")
def client(fuzz_hub: FuzzHub, seeded: Seed) -> Iterator[Client]:
    c = Client(fuzz_hub, seeded)
    yield c
    c.close()


def with_body() -> list[Target]:
    return [t for t in targets() if t.takes_body]


def with_path_ids() -> list[Target]:
    return [t for t in targets() if t.path_parameters]


def with_query() -> list[Target]:
    return [t for t in targets() if t.query_parameters]


def _strings_replaced(body: Any, value: str) -> Any:
    """`body` with every string in it (not the keys) replaced by `value`."""
    if isinstance(body, dict):
        return {k: _strings_replaced(v, value) for k, v in body.items()}
    if isinstance(body, list):
        return [_strings_replaced(v, value) for v in body]
    return value if isinstance(body, str) else body


def test_every_operation_that_takes_a_body_has_a_valid_one_here() -> None:
    assert {t.label for t in with_body()} == set(VALID_BODIES)


@pytest.mark.parametrize("target", with_body(), ids=str)
def test_deeply_nested_json_is_refused_with_422(client: Client, target: Target) -> None:
    for body in (deeply_nested(), deeply_nested_object()):
        r = client.send(target, content=body, headers=JSON)
        assert r.status_code == 422, r.text
    # Deep, but shallow enough to parse: inside a field, where the validator meets it.
    field = next(iter(VALID_BODIES[target.label]))
    nested = b'{"%s":' % field.encode() + deeply_nested_object(400) + b"}"
    r = client.send(target, content=nested, headers=JSON)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("target", with_body(), ids=str)
def test_a_multi_megabyte_body_is_refused_with_413(client: Client, target: Target) -> None:
    declared = client.send(target, content=HUGE, headers=JSON)
    assert declared.status_code == 413 and error_code(declared) == "payload_too_large"

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(HUGE), 64 * 1024):
            yield HUGE[start : start + 64 * 1024]

    streamed = client.send(target, content=chunks(), headers=JSON)
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413 and error_code(streamed) == "payload_too_large"
    assert streamed.headers["content-type"] == "application/json"
    # Under the limit, a very wide object is only data.
    assert len(wide_json()) < DEFAULT_MAX_BODY_BYTES
    client.send(target, content=wide_json(), headers=JSON)


@pytest.mark.parametrize("target", with_body(), ids=str)
def test_bodies_that_are_not_json_text_are_refused_with_422(client: Client, target: Target) -> None:
    for content in (b"\xff\xfe\xfa", b'{"title": "\xc3\x28"}', b"{", b"null", b"[]", b'"text"', b"1e999999"):
        r = client.send(target, content=content, headers=JSON)
        assert r.status_code == 422, (content, r.text)
    r = client.send(
        target, content=json.dumps(VALID_BODIES[target.label]).encode(), headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("target", with_body(), ids=str)
def test_hostile_strings_in_every_field(client: Client, target: Target) -> None:
    valid = VALID_BODIES[target.label]
    for value in [*HOSTILE_FIELD_VALUES, *LONE_SURROGATES, "A" * 100_000]:
        body = _strings_replaced(valid, value)
        r = client.send(target, content=json.dumps(body).encode(), headers=JSON)
        if body != valid and ("\x00" in value or value in LONE_SURROGATES):
            assert r.status_code == 422, (value, r.text)


@pytest.mark.parametrize("target", with_path_ids(), ids=str)
def test_hostile_ids_in_the_path(client: Client, target: Target) -> None:
    body = VALID_BODIES.get(target.label)
    for value in [*HOSTILE_IDS, *LONE_SURROGATES, "\x00", "x\x00y"]:
        ids = {name: value for name in target.path_parameters}
        r = client.send(target, path=ids, json=body)
        assert r.status_code in (404, 422), (value, r.status_code, r.text)


def test_unencoded_traversal_reaches_no_other_resource(fuzz_hub: FuzzHub, seeded: Seed) -> None:
    """Dot segments sent as they are (a client that does not normalize them): the services do not resolve them."""
    tid = seeded.tracking_ids[0]
    for service, path in (
        ("agency", f"/api/v1/agency/complaints/{tid}/../../../../etc/passwd"),
        ("agency", f"/api/v1/agency/complaints/../complaints/{tid}"),
        ("routing", "/api/v1/hub/agencies/FZ-KEMEN/../../api-keys"),
        ("notify", "/api/v1/notify/deliveries/..%2f..%2f..%2fetc%2fpasswd"),
        ("intake", f"/api/v1/complaints/%2e%2e/{tid}"),
    ):
        status, raw = _raw_get(fuzz_hub.urls[service], path, {"Authorization": f"Bearer {seeded.keys['admin']}"})
        assert status in (403, 404), (path, status, raw)
        assert set(json.loads(raw)) == {"error"}, (path, raw)


@pytest.mark.parametrize("target", with_query(), ids=str)
def test_hostile_query_values(client: Client, target: Target) -> None:
    for value in [*HOSTILE_QUERY_VALUES, LONE_SURROGATES[0]]:
        for name in target.query_parameters:
            client.send(target, query={name: value})


def test_like_wildcards_in_a_search_are_literal(client: Client) -> None:
    (search,) = [t for t in targets("routing") if t.label == "GET /api/v1/hub/agencies"]
    for q in ("%", "_", "%_%", "!", "'", '"', *SQL):
        r = client.send(search, query={"q": q, "limit": 200})
        assert r.status_code == 200, r.text
        for node in r.json()["items"]:
            assert q.lower() in (node["code"] + "\n" + node["name"]).lower(), (q, node)


def test_sql_meta_characters_are_stored_as_data(client: Client) -> None:
    (create,) = [t for t in targets("routing") if t.label == "POST /api/v1/hub/agencies"]
    (read,) = [t for t in targets("routing") if t.label == "GET /api/v1/hub/agencies/{code}"]
    for n, name in enumerate(SQL):
        code = f"FZ-SQL-{n}"
        r = client.send(create, json={"code": code, "name": name, "kind": "unit"})
        assert r.status_code == 201, r.text
        stored = client.send(read, path={"code": code}).json()
        assert stored["name"] == name.strip(), (name, stored)


WRONG_TYPES: dict[str, list[dict[str, Any]]] = {
    "POST /api/v1/complaints": [
        {"is_anonymous": 0},
        {"is_confidential": "true"},
        {"incident_date": 0},
        {"incident_date": "1700000000"},
        {"title": 5},
        {"reporter": "Siti"},
        {"classification": 1},
    ],
    "POST /api/v1/complaints/{tracking_id}/messages": [{"disputes_answer": 1}, {"content": ["x"]}],
    "POST /api/v1/complaints/{tracking_id}/rating": [{"score": "5"}, {"score": True}, {"score": 4.5}],
    "POST /api/v1/hub/agencies": [{"is_active": 0}, {"region_codes": "35"}, {"kind": None}],
    "PATCH /api/v1/hub/agencies/{code}": [{"is_active": "false"}],
    "POST /api/v1/hub/api-keys": [{"expires_at": 4102444800}, {"expires_at": "4102444800"}, {"role": ["admin"]}],
    "POST /api/v1/hub/api-keys/{key_id}/rotate": [{"grace_seconds": False}, {"grace_seconds": "60"}],
    "POST /api/v1/hub/routing-rules": [{"priority": "1"}, {"priority": True}, {"keywords": "jalan"}],
    "POST /api/v1/hub/sla-policies": [{"working_days": "3"}, {"berkadar_pengawasan": 1}],
    "PATCH /api/v1/hub/sla-policies/{id}": [{"working_days": 8.5}],
    "PATCH /api/v1/hub/complaints/{tracking_id}": [{"berkadar_pengawasan": "yes"}],
    "POST /api/v1/hub/complaints/{tracking_id}/decisions": [{"berkadar_pengawasan": 1, "action": "dispose"}],
    "POST /api/v1/agency/complaints/{tracking_id}/follow-ups": [{"is_final": 1}, {"content": {"text": "x"}}],
    "POST /api/v1/agency/complaints/{tracking_id}/forward": [{"reason": 7}],
    "POST /api/v1/agency/complaints/{tracking_id}/delegate": [{"agency_code": ["FZ-UPT"]}],
}
WRONG_QUERY_TYPES: dict[str, list[dict[str, Any]]] = {
    "GET /api/v1/hub/stats/agencies": [{"from": "0"}, {"to": "1700000000"}, {"limit": "ten"}],
    "GET /api/v1/hub/stats/periods": [{"from": "20260101"}, {"granularity": "1"}],
    "GET /api/v1/hub/calendar/deadline": [
        {"start": "0", "working_days": 3},
        {"start": "2026-03-02T09:00+07:00", "working_days": "x"},
    ],
    "GET /api/v1/agency/complaints": [{"overdue": "maybe"}, {"offset": "-1"}],
    "GET /api/v1/notify/deliveries": [{"limit": "1.5"}],
}


@pytest.mark.parametrize("label", sorted(WRONG_TYPES))
def test_wrong_types_in_a_body_are_refused_with_422(client: Client, label: str) -> None:
    (target,) = [t for t in targets() if t.label == label]
    for wrong in WRONG_TYPES[label]:
        r = client.send(target, json={**VALID_BODIES[label], **wrong})
        assert r.status_code == 422 and error_code(r) == "validation_error", (wrong, r.text)


@pytest.mark.parametrize("label", sorted(WRONG_QUERY_TYPES))
def test_wrong_types_in_a_query_are_refused_with_422(client: Client, label: str) -> None:
    (target,) = [t for t in targets() if t.label == label]
    for wrong in WRONG_QUERY_TYPES[label]:
        r = client.send(target, query=wrong)
        assert r.status_code == 422 and error_code(r) == "validation_error", (wrong, r.text)


def _raw_get(base_url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET `path` exactly as written: no client normalizes its dot segments or limits its length."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("service", ["intake", "routing", "agency", "notify"])
def test_a_request_line_past_the_server_limit_is_refused_without_a_5xx(fuzz_hub: FuzzHub, service: str) -> None:
    """Past 80 KB the HTTP server itself answers 400 before any service code runs (see docs/hostile-input.md)."""
    status, _ = _raw_get(fuzz_hub.urls[service], "/healthz?q=" + "A" * 100_000)
    assert status == 400


@pytest.mark.parametrize("target", list(targets()), ids=str)
def test_a_method_the_path_does_not_take_is_405_with_the_right_allow(client: Client, target: Target) -> None:
    documented = {
        t.operation.method.upper() for t in targets(target.service) if t.operation.path == target.operation.path
    }
    for method in ("OPTIONS", "PUT", "TRACE"):
        if method in documented:
            continue
        r = client.send(target, method=method)
        assert r.status_code == 405 and error_code(r) == "method_not_allowed", (method, r.text)
        assert set(r.headers["allow"].split(", ")) == documented, (method, r.headers["allow"])
