"""Public, cacheable JSON answers: a strong ETag (the SHA-256 of the body), `Cache-Control: public`, and 304 Not
Modified when the client's `If-None-Match` names it."""

from __future__ import annotations

import hashlib

import orjson
from fastapi import Request, Response
from pydantic import BaseModel

PUBLIC_MAX_AGE_S = 300


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """True if `If-None-Match` names `etag` (or is `*`); a weak `W/` form of it matches too, as RFC 9110 says."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def cached_json(request: Request, model: BaseModel, *, max_age: int = PUBLIC_MAX_AGE_S) -> Response:
    """`model` as JSON with its ETag and public caching headers, or 304 with the headers alone."""
    body = orjson.dumps(model.model_dump(mode="json"))
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)
