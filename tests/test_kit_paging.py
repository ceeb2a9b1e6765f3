"""The paging dependency: `limit` and `offset` in the query, with one set of bounds, and the next page's offset."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.http.errors import install_error_handlers
from shared.http.paging import MAX_LIMIT, MAX_OFFSET, Page, PageDep


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/items")
    async def items(page: PageDep) -> dict[str, int]:
        return {"limit": page.limit, "offset": page.offset}

    return app


async def _get(params: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://test") as client:
        return await client.get("/items", params=params)


async def test_defaults_and_bounds_are_accepted() -> None:
    assert (await _get({})).json() == {"limit": 50, "offset": 0}
    edge = {"limit": MAX_LIMIT, "offset": MAX_OFFSET}
    assert (await _get(edge)).json() == edge
    assert (await _get({"limit": 1})).json() == {"limit": 1, "offset": 0}


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": MAX_LIMIT + 1}, {"offset": -1}, {"offset": MAX_OFFSET + 1}, {"limit": "ten"}],
)
async def test_out_of_bounds_is_refused(params: dict[str, Any]) -> None:
    r = await _get(params)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


def test_the_document_names_the_query_parameters_and_their_bounds() -> None:
    operation = _app().openapi()["paths"]["/items"]["get"]
    params = {p["name"]: (p["in"], p["schema"]) for p in operation["parameters"]}
    assert set(params) == {"limit", "offset"}
    assert params["limit"][0] == params["offset"][0] == "query"
    assert (params["limit"][1]["minimum"], params["limit"][1]["maximum"], params["limit"][1]["default"]) == (1, 200, 50)
    assert (params["offset"][1]["minimum"], params["offset"][1]["maximum"]) == (0, 10_000_000)


def test_next_offset_follows_one_row_more_than_the_page() -> None:
    page = Page(limit=10, offset=20)
    assert page.next_offset(11) == 30
    assert page.next_offset(10) is None
    assert page.next_offset(0) is None
    assert Page(limit=2, offset=0).next_offset(3) == 2
