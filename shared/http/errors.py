"""Every failure becomes a JSON ErrorBody with a stable code. Bad input never yields a 500."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from shared.db.availability import database_unavailable
from shared.db.batch_writer import WriterStopped
from shared.errors import ApiError
from shared.http.openapi import documented_methods
from shared.logging import get_logger

log = get_logger(__name__)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def _json(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> JSONResponse:
    return JSONResponse(ApiError(status, code, message, details).body(), status_code=status)


_UNREADABLE_BODY = {"loc": ["body"], "msg": "the body is not UTF-8 JSON, or nests too deep", "type": "json_invalid"}


_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})
"""PostgreSQL's serialization failure and deadlock: the transaction lost to a concurrent one; a retry can succeed."""


def _sqlstate(exc: Exception) -> str | None:
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return str(code) if code else None


def _retry_shortly(message: str) -> JSONResponse:
    response = _json(503, "service_unavailable", message)
    response.headers["Retry-After"] = "1"
    return response


def _unreadable_body(exc: StarletteHTTPException) -> bool:
    """FastAPI's 400 for a body that is not UTF-8 JSON text, or nests too deep to parse (its JSON syntax errors
    are already 422): the same mistake, so the same answer."""
    return exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE")


def _allowed_methods(request: Request) -> str:
    """Every method the path takes, as documented (Starlette names those of the first route that matched the
    path only); for a path the document leaves out, every method some route would take it with."""
    documented = documented_methods(request.app.openapi(), request.url.path)
    if documented is not None:
        return ", ".join(documented)
    routes: list[BaseRoute] = request.app.router.routes
    return ", ".join(
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"Retry-After": str(max(1, exc.retry_after or 1))} if exc.status_code in (429, 503) else None
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return _json(422, "validation_error", "the request is not valid", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if _unreadable_body(exc):
            return _json(422, "validation_error", "the request is not valid", [_UNREADABLE_BODY])
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        body = ApiError(exc.status_code, code, message).body()
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    @app.exception_handler(sa_exc.DataError)
    async def data_error(_: Request, exc: Exception) -> JSONResponse:
        log.warning("value_refused_by_database", error=type(exc).__name__)
        return _json(422, "invalid_value", "a value is not acceptable (too long, or holds characters not allowed)")

    @app.exception_handler(sa_exc.IntegrityError)
    async def integrity_error(_: Request, exc: Exception) -> JSONResponse:
        log.warning("integrity_conflict", error=type(exc).__name__)
        return _json(409, "conflict", "the request conflicts with existing data")

    @app.exception_handler(sa_exc.OperationalError)
    @app.exception_handler(sa_exc.InterfaceError)
    @app.exception_handler(sa_exc.DisconnectionError)
    @app.exception_handler(ConnectionError)
    @app.exception_handler(TimeoutError)
    @app.exception_handler(WriterStopped)
    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("dependency_unavailable", error=repr(exc))
        return _retry_shortly("a dependency is unavailable; retry shortly")

    @app.exception_handler(sa_exc.DBAPIError)
    # A name that does not resolve or a host that does not answer, from the database or any other dependency: 503.
    @app.exception_handler(OSError)
    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        if database_unavailable(exc):
            return await unavailable(request, exc)
        if _sqlstate(exc) in _TRANSIENT_SQLSTATES:
            log.warning("transaction_conflict", error=repr(exc))
            return _retry_shortly("the request met a concurrent one; retry shortly")
        return await internal(request, exc)

    @app.exception_handler(Exception)
    async def internal(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error=repr(exc))
        return _json(500, "internal_error", "an unexpected error occurred")
