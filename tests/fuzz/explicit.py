"""Explicit hostile requests: sent over HTTP like the generated ones, and judged by the same response checks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from schemathesis import APIOperation
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.hub import REQUEST_TIMEOUT_S, FuzzHub
from tests.fuzz.schemas import SCHEMAS
from tests.fuzz.seed import Seed
from tests.fuzz.sms import SMS_PATH, SignedForHttpx
from tests.fuzz.tally import count_request
from tests.support.apps import auth

RESPONSE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CALLER = {"intake": None, "routing": "admin", "agency": "agency", "notify": "admin"}
"""The role each service's operations are called with here: the one that gets past their authorization."""

VALID_BODIES: dict[str, dict[str, Any]] = {
    "POST /api/v1/complaints": {
        "title": "Pungutan liar",
        "content": "Petugas meminta uang.",
        "classification": "pengaduan",
        "category": "pemasyarakatan",
        "region_code": "3578",
        "reporter": {"name": "Siti Aminah", "email": "siti.aminah@example.test"},
    },
    "POST /api/v1/complaints/{tracking_id}/messages": {"content": "Tambahan keterangan."},
    "POST /api/v1/complaints/{tracking_id}/rating": {"score": 5, "comment": "Cepat."},
    "POST /api/v1/channels/sms/inbound": {"from": "+6281200001111", "text": "Lampu jalan mati", "message_id": "fz-1"},
    "POST /api/v1/hub/agencies": {"code": "FZ-NEW", "name": "Kantor baru", "kind": "unit"},
    "PATCH /api/v1/hub/agencies/{code}": {"name": "Kantor lama"},
    "POST /api/v1/hub/agencies/{code}/api-keys": {"label": "sistem"},
    "POST /api/v1/hub/api-keys": {"role": "coordinator", "label": "koordinator"},
    "POST /api/v1/hub/api-keys/{key_id}/rotate": {"grace_seconds": 0},
    "POST /api/v1/hub/categories": {"code": "fz-baru", "name": "Kategori baru", "name_en": "New category"},
    "PATCH /api/v1/hub/categories/{code}": {"name": "Kategori lama"},
    "POST /api/v1/hub/routing-rules": {"agency_code": "FZ-OTHER", "category": "jalan", "keywords": ["jalan rusak"]},
    "POST /api/v1/hub/sla-policies": {"kind": "verification", "working_days": 4, "category": "jalan"},
    "PATCH /api/v1/hub/sla-policies/{id}": {"working_days": 8},
    "PATCH /api/v1/hub/complaints/{tracking_id}": {"berkadar_pengawasan": False},
    "POST /api/v1/hub/complaints/{tracking_id}/decisions": {"action": "postpone", "reason": "Menunggu data."},
    "POST /api/v1/agency/complaints/{tracking_id}/follow-ups": {"content": "Sedang diperiksa."},
    "POST /api/v1/agency/complaints/{tracking_id}/forward": {"reason": "Bukan wewenang kami."},
    "POST /api/v1/agency/complaints/{tracking_id}/delegate": {"agency_code": "FZ-UPT", "reason": "Wilayahnya."},
    "POST /api/v1/agency/webhooks": {"url": "http://agency.example.test/", "event_types": ["complaint.dispositioned"]},
    "PATCH /api/v1/agency/webhooks/{webhook_id}": {"url": "https://agency.example.test/hook"},
    "POST /api/v1/notify/recipients": {"role": "coordinator", "level": 3, "email": "koordinator@example.test"},
}
"""A body each operation that takes one would accept: the hostile values go into its strings and scalars."""


@dataclass(frozen=True)
class Target:
    service: str
    operation: APIOperation

    @property
    def label(self) -> str:
        return f"{self.operation.method.upper()} {self.operation.path}"

    def __str__(self) -> str:
        return f"{self.service} {self.label}"

    @property
    def takes_body(self) -> bool:
        """A JSON body: the hostile-body tests are JSON's (an upload's multipart is tested in its own tests)."""
        return any(body.media_type == "application/json" for body in self.operation.body)

    @property
    def path_parameters(self) -> list[str]:
        return [p.name for p in self.operation.path_parameters]

    @property
    def query_parameters(self) -> list[str]:
        return [p.name for p in self.operation.query]


def targets(*services: str) -> Iterator[Target]:
    """Every operation of `services` (all four if none are named)."""
    for service in services or tuple(SCHEMAS):
        for result in SCHEMAS[service].get_all_operations():
            if isinstance(result, Err):
                raise result.err()
            yield Target(service, result.ok())


def existing_ids(target: Target, seed: Seed) -> dict[str, str]:
    """Path parameters that name something that exists (any value where nothing is known)."""
    values: dict[str, str] = {}
    for name in target.path_parameters:
        known = seed.known(target.operation.path, name)
        values[name] = str(known[0]) if known else "2026"
    return values


class Client:
    """Sends one request to one operation as its natural caller, and checks the answer as the fuzzer would."""

    def __init__(self, hub: FuzzHub, seed: Seed):
        self.hub = hub
        self.seed = seed
        self.http = httpx.Client(timeout=REQUEST_TIMEOUT_S)

    def close(self) -> None:
        self.http.close()

    def headers(self, target: Target, path: Mapping[str, str]) -> dict[str, str]:
        role = "channel" if target.operation.path == SMS_PATH else CALLER[target.service]
        headers = auth(self.seed.keys[role]) if role else {}
        receipt = self.seed.receipts.get(path.get("tracking_id", ""))
        if receipt:
            headers["X-Receipt"] = receipt
        return headers

    def send(
        self,
        target: Target,
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | Iterator[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
    ) -> httpx.Response:
        """Path and query values are percent-encoded once, as any client would (a lone surrogate as the three bytes
        UTF-8 would give it if it could: %ED%A0%80 for U+D800); dots in path values too, so that an id of ".." is
        an id and not a dot segment that the client resolves into another path (test_hostile_input sends those)."""
        path = dict(path if path is not None else existing_ids(target, self.seed))
        url = target.operation.path.format(**{k: _encoded(v).replace(".", "%2E") for k, v in path.items()})
        if query:
            url += "?" + "&".join(f"{_encoded(k)}={_encoded(str(v))}" for k, v in query.items())
        count_request(self.hub, target.service, "explicit")
        response = self.http.request(
            method or target.operation.method.upper(),
            self.hub.urls[target.service] + url,
            json=json,
            content=content,
            headers={**self.headers(target, path), **(headers or {})},
            auth=SignedForHttpx() if target.operation.path == SMS_PATH else None,
        )
        # The caller checks the answer itself where schemathesis cannot: to another method than the operation's,
        # or to a streamed body (which it would need to read back).
        if method is None and isinstance(content, bytes | None):
            case = target.operation.Case(path_parameters=path, query=dict(query or {}))
            case.validate_response(response, checks=RESPONSE_CHECKS)
        return response


def _encoded(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])
