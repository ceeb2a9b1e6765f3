"""The HTTP kit's answers to hostile input: unreadable bodies, wrong methods, lost transactions, and the documents."""

from __future__ import annotations

import errno
import socket
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from sqlalchemy import exc as sa_exc

from routing_svc.app import create_app as create_routing
from routing_svc.settings import RoutingSettings
from shared.http.concrete_paths import refuse_templates_on_concrete_paths
from shared.http.errors import install_error_handlers
from shared.http.inputs import IsoDate, IsoDateTime, JsonBool, JsonInt
from shared.http.openapi import add_shared_responses, documented_methods, link_to
from tests.fuzz.hostile import deeply_nested
from tests.support.apps import keys_for


class Item(BaseModel):
    name: str


class _PgError(Exception):
    def __init__(self, sqlstate: str):
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _kit_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/items")
    async def create(item: Item) -> Item:
        return item

    @app.get("/items/{item_id}")
    async def read(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.delete("/items/{item_id}")
    async def remove(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/items/special")
    async def special() -> dict[str, str]:
        return {}

    @app.get("/fail/{sqlstate}")
    async def fail(sqlstate: str) -> None:
        raise sa_exc.DBAPIError("UPDATE t SET x = 1", {}, _PgError(sqlstate))

    @app.get("/unreachable/{kind}")
    async def unreachable(kind: str) -> None:
        if kind == "dns":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        raise OSError(errno.ENOSPC, "No space left on device")

    refuse_templates_on_concrete_paths(app)
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_kit_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as c:
        yield c


@pytest.mark.parametrize("body", [b"\xff\xfe{", b'{"name": "\xc3\x28"}', deeply_nested(10_000)])
async def test_a_body_that_is_not_utf8_json_or_nests_too_deep_is_422(client: httpx.AsyncClient, body: bytes) -> None:
    r = await client.post("/items", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"
    assert r.json()["error"]["details"][0]["type"] == "json_invalid"


async def test_a_405_names_every_method_the_path_takes(client: httpx.AsyncClient) -> None:
    r = await client.put("/items/7")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    assert r.headers["allow"] == "DELETE, GET"
    # A concrete path wins over the template that also matches it, for the methods only the template takes too.
    for method in ("POST", "DELETE", "OPTIONS"):
        r = await client.request(method, "/items/special")
        assert (r.status_code, r.headers.get("allow")) == (405, "GET"), (method, r.text)


async def test_a_lost_transaction_is_503_to_retry_and_any_other_database_error_500(client: httpx.AsyncClient) -> None:
    for sqlstate in ("40P01", "40001"):
        r = await client.get(f"/fail/{sqlstate}")
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert r.json()["error"]["code"] == "service_unavailable"
    r = await client.get("/fail/XX000")
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"


async def test_a_database_whose_name_no_longer_resolves_is_503_and_a_full_disk_500(client: httpx.AsyncClient) -> None:
    r = await client.get("/unreachable/dns")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.json()["error"]["code"] == "service_unavailable"
    r = await client.get("/unreachable/disk")
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"


def test_the_document_states_the_shared_answers() -> None:
    doc = add_shared_responses(_kit_app().openapi())
    ops = {(path, method): op for path, item in doc["paths"].items() for method, op in item.items()}
    post, read = ops[("/items", "post")], ops[("/items/{item_id}", "get")]
    assert {"413", "422"} <= set(post["responses"]) and "404" not in post["responses"]
    assert {"404", "422"} <= set(read["responses"]) and "413" not in read["responses"]
    for op in ops.values():
        ref = op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/ErrorBody"
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert {"ErrorBody", "ErrorDetail"} <= set(doc["components"]["schemas"])
    assert documented_methods(doc, "/items/3") == ["DELETE", "GET"]
    assert documented_methods(doc, "/nowhere") is None


def test_a_link_points_into_the_same_document() -> None:
    link = link_to("/api/v1/complaints/{tracking_id}", "get", {"path.tracking_id": "$response.body#/id"}, "Read.")
    assert link["operationRef"] == "#/paths/~1api~1v1~1complaints~1{tracking_id}/get"


async def test_a_service_has_one_spelling_per_path(tmp_path: Path) -> None:
    keys: dict[str, Any] = keys_for(RoutingSettings)
    app = create_routing(RoutingSettings(data_dir=tmp_path, **keys))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as c:
        r = await c.get("/api/v1/hub/agencies/")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


class Strict(BaseModel):
    flag: JsonBool = False
    count: JsonInt = 0
    day: IsoDate | None = None
    at: IsoDateTime | None = None


@pytest.mark.parametrize(
    "wrong",
    [{"flag": 0}, {"flag": "true"}, {"count": True}, {"count": "5"}, {"count": 2.5}, {"day": 0}]
    + [{"day": "1700000000"}, {"day": "2026-03-02T00:00"}, {"at": 1700000000}, {"at": "1700000000"}],
)
def test_request_values_take_only_the_documented_type(wrong: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Strict.model_validate(wrong)


def test_request_values_of_the_documented_type_are_read() -> None:
    ok = Strict.model_validate({"flag": True, "count": 3.0, "day": "2026-03-02", "at": "2026-03-02T09:00+07:00"})
    assert ok.flag is True and ok.count == 3 and isinstance(ok.count, int)
    assert ok.day == date(2026, 3, 2) and isinstance(ok.at, datetime) and ok.at.utcoffset() is not None
