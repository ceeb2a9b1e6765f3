"""The JSON error every refusal answers with: a stable `code`, a message, and optional details."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    """An expected refusal. Raised anywhere below an endpoint; rendered as ErrorBody."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        *,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.retry_after = retry_after
        """Seconds for a 429's or 503's Retry-After (1 when not given)."""

    def body(self) -> dict[str, Any]:
        return ErrorBody(error=ErrorDetail(code=self.code, message=self.message, details=self.details)).model_dump(
            exclude_none=True
        )


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def invalid_field(loc: tuple[str | int, ...], message: str, kind: str) -> ApiError:
    """A 422 `validation_error` about one field, in the shape request validation answers with."""
    return ApiError(
        422, "validation_error", "the request is not valid", [{"loc": list(loc), "msg": message, "type": kind}]
    )


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the ErrorBody for the given statuses.

    Where a key is checked (401), 429 too: a client that presented too many wrong keys is locked out for a while.
    """
    descriptions = {
        400: "Bad request",
        401: "Missing or invalid key (`unauthenticated`)",
        403: "The key's role may not do this (`forbidden`)",
        404: "Not found, or not visible to this key (`not_found`)",
        409: "The case is not in a state that allows this (`illegal_transition` and others)",
        410: "Gone: removed when the case's retention ran out",
        413: "Body too large (`payload_too_large`)",
        415: "A file of a type not accepted, as sniffed from its content (`unsupported_media_type`)",
        422: "Invalid input (`validation_error`)",
        429: "Too many requests (`rate_limited`)",
        503: "A dependency is down (`service_unavailable`)",
    }
    if 401 in statuses and 429 not in statuses:
        statuses = (*statuses, 429)
    return {s: {"model": ErrorBody, "description": descriptions.get(s, "Error")} for s in statuses}
