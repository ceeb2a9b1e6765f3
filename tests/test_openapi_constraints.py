"""The documents state what the code enforces: no NUL anywhere a request carries text, and the shape of codes.

Judged with a JSON Schema validator over each service's own document (the one its app serves), so that what a
client's generator or validator reads from the document is what the service then accepts.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from pydantic import ValidationError

from shared.calendar import zone
from tests.fuzz.explicit import VALID_BODIES
from tests.fuzz.hub import SERVICES
from tests.fuzz.schemas import openapi_document

DOCUMENTS = {svc.name: openapi_document(svc) for svc in SERVICES}
METHODS = ("get", "put", "post", "delete", "patch")


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, doc in DOCUMENTS.items():
        for path, item in doc["paths"].items():
            for method in METHODS:
                if method in item:
                    yield name, f"{method.upper()} {path}", item[method]


def _validator(service: str, schema: dict[str, Any]) -> jsonschema_rs.Validator:
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return jsonschema_rs.validator_for({**root, "components": DOCUMENTS[service]["components"]})


def _with_nul(value: Any) -> Iterator[tuple[str, Any]]:
    """`value` with NUL put in one place at a time: each string, each property name, an undeclared property."""
    if isinstance(value, str):
        yield "", value + "\x00"
    elif isinstance(value, list):
        for i, item in enumerate(value):
            for where, changed in _with_nul(item):
                yield f"[{i}]{where}", [*value[:i], changed, *value[i + 1 :]]
    elif isinstance(value, dict):
        for key, item in value.items():
            for where, changed in _with_nul(item):
                yield f".{key}{where}", {**value, key: changed}
        yield ".<a name with NUL>", {**value, "na\x00me": 1}
        yield ".<undeclared>", {**value, "undeclared": {"list": ["a\x00"]}}


BODIES = [
    (service, label, operation)
    for service, label, operation in _operations()
    if label in VALID_BODIES and "application/json" in operation.get("requestBody", {}).get("content", {})
]


@pytest.mark.parametrize(("service", "label", "operation"), BODIES, ids=[label for _, label, _ in BODIES])
def test_a_body_schema_refuses_nul_wherever_the_nul_guard_does(
    service: str, label: str, operation: dict[str, Any]
) -> None:
    validator = _validator(service, operation["requestBody"]["content"]["application/json"]["schema"])
    body = copy.deepcopy(VALID_BODIES[label])
    assert validator.is_valid(body), list(validator.iter_errors(body))
    allowed = [where for where, changed in _with_nul(body) if validator.is_valid(changed)]
    assert not allowed, f"the document allows NUL at {allowed}"


PARAMETERS = [
    (service, f"{label} {p['in']}:{p['name']}", p["schema"])
    for service, label, operation in _operations()
    for p in operation.get("parameters", [])
    if p["in"] in ("path", "query") and "string" in str(p["schema"])
]


@pytest.mark.parametrize(("service", "label", "schema"), PARAMETERS, ids=[label for _, label, _ in PARAMETERS])
def test_a_text_parameter_refuses_nul(service: str, label: str, schema: dict[str, Any]) -> None:
    assert not _validator(service, schema).is_valid("SPL-1\x00"), label


TIMEZONES = ["WIB", "wita", "Wit", "w\u0131b", " WIB\u3000", "\tAsia/Jakarta\n", "Asia/Makassar", "Asia/Jayapura"]
NOT_TIMEZONES = ["UTC", "asia/jakarta", "WIBA", "W IB", "Asia/Jakarta/", "\u200bWIB", "Europe/Jakarta", ""]


@pytest.mark.parametrize("value", TIMEZONES + NOT_TIMEZONES)
def test_a_recipients_timezone_is_declared_as_the_code_reads_it(value: str) -> None:
    schema = DOCUMENTS["notify"]["components"]["schemas"]["RecipientCreate"]["properties"]["timezone"]
    try:
        zone(value.strip())
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == (value in TIMEZONES)
    assert _validator("notify", schema).is_valid(value) == accepted, value


@pytest.mark.parametrize("wrong", [{"is_system": 0}, {"is_system": "true"}, {"level": "2"}, {"level": True}])
def test_a_recipient_takes_json_booleans_and_integers_as_its_document_types_them(wrong: dict[str, Any]) -> None:
    """The document says boolean and integer: 0, "true", "2" and true are refused, as every other service's are."""
    from notify_svc.recipients.schemas import RecipientCreate

    with pytest.raises(ValidationError):
        RecipientCreate.model_validate({"level": 1, "email": "koordinator@example.test", **wrong})
