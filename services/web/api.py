"""The portal's client of the public API: every call carries the visitor's receipt and address, never more."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, BinaryIO

import httpx
from starlette.requests import HTTPConnection

PASSED_ON_DOWNLOAD_HEADERS = (
    "content-type",
    "content-length",
    "content-disposition",
    "x-content-type-options",
    "content-security-policy",
    "cache-control",
)


@dataclass(frozen=True)
class Visitor:
    """Who the portal asks for: the X-Forwarded-For it received, with its own peer appended, as a proxy does.

    The services read the chain from the right, through the proxies they trust, so each citizen is counted by their
    own address (rate limits, failed receipts) and never by the portal's, which is loopback and exempt."""

    forwarded_for: str

    @classmethod
    def of(cls, connection: HTTPConnection) -> Visitor:
        hops = [hop.strip() for line in connection.headers.getlist("x-forwarded-for") for hop in line.split(",")]
        hops = [hop for hop in hops if hop]
        hops.append(connection.client.host if connection.client else "unknown")
        return cls(", ".join(hops))


class ApiDown(Exception):
    """The API did not answer, or answered that it cannot now (502, 503, 504)."""


class ApiUnanswered(ApiDown):
    """The request went out but no answer came back (a timeout, a dropped connection, the gateway's 504): it may
    have been done. Sent again with the same Idempotency-Key, it is done once."""


_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


@dataclass
class ApiProblem(Exception):
    """A refusal the API explained: its status, stable code, message and (for 422) the fields at fault."""

    status: int
    code: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)

    def fields(self) -> dict[str, str]:
        """The fields a 422 names, dotted as the form names them (`reporter.email`), each with the error's type."""
        found: dict[str, str] = {}
        for detail in self.details:
            loc = [str(part) for part in detail.get("loc", []) if part != "body"]
            if loc:
                found.setdefault(".".join(loc), str(detail.get("type", "")))
        return found


def _problem(response: httpx.Response) -> ApiProblem | ApiDown:
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error.get("message", ""))
        details = error.get("details") or []
    except (ValueError, KeyError, TypeError):
        return ApiDown(f"the API answered {response.status_code} without an error body")
    if response.status_code == 504:
        return ApiUnanswered(f"the API answered 504 {code}")
    if response.status_code in (502, 503) and code != "scanner_unavailable":
        return ApiDown(f"the API answered {response.status_code} {code}")
    return ApiProblem(response.status_code, code, message, details if isinstance(details, list) else [])


class PortalApi:
    def __init__(self, base_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None):
        self.client = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self.client.aclose()

    @staticmethod
    def _headers(visitor: Visitor | None, receipt: str | None = None, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if visitor is not None:
            headers["X-Forwarded-For"] = visitor.forwarded_for
        if receipt is not None:
            headers["X-Receipt"] = receipt
        return headers

    async def answers(self, timeout: float = 3.0) -> bool:
        """Whether the API answers its /healthz: the portal's own readiness."""
        try:
            return (await self.client.get("/healthz", timeout=timeout)).status_code == 200
        except httpx.HTTPError:
            return False

    async def send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """The answer to a request; ApiDown when there is none, ApiProblem for a refusal."""
        try:
            response = await self.client.send(request, stream=stream)
        except _NOT_SENT as exc:
            raise ApiDown(f"{type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise ApiUnanswered(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            if stream:
                await response.aread()
                await response.aclose()
            raise _problem(response)
        return response

    async def submit(self, body: dict[str, Any], idempotency_key: str, visitor: Visitor) -> tuple[dict[str, Any], bool]:
        """The submission's answer, and whether it replays an earlier one (the same form sent twice)."""
        request = self.client.build_request(
            "POST",
            "/api/v1/complaints",
            json=body,
            headers=self._headers(visitor, **{"Idempotency-Key": idempotency_key}),
        )
        response = await self.send(request)
        return response.json(), response.headers.get("idempotent-replayed") == "true"

    async def case(self, tracking_id: str, receipt: str, visitor: Visitor) -> dict[str, Any]:
        request = self.client.build_request(
            "GET", f"/api/v1/complaints/{tracking_id}", headers=self._headers(visitor, receipt)
        )
        result: dict[str, Any] = (await self.send(request)).json()
        return result

    async def post(self, tracking_id: str, what: str, body: dict[str, Any], receipt: str, visitor: Visitor) -> None:
        """A reporter's POST under the case: `messages` or `rating`."""
        request = self.client.build_request(
            "POST", f"/api/v1/complaints/{tracking_id}/{what}", json=body, headers=self._headers(visitor, receipt)
        )
        await self.send(request)

    async def upload(
        self,
        tracking_id: str,
        receipt: str,
        filename: str,
        file: BinaryIO,
        media_type: str,
        visitor: Visitor,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """One file, read from `file` as it is sent (httpx streams a file object in chunks); with a key, a file sent
        again is added once."""
        extra = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        request = self.client.build_request(
            "POST",
            f"/api/v1/complaints/{tracking_id}/attachments",
            files={"file": (filename, file, media_type)},
            headers=self._headers(visitor, receipt, **extra),
        )
        result: dict[str, Any] = (await self.send(request)).json()
        return result

    async def download(self, tracking_id: str, attachment_id: str, receipt: str, visitor: Visitor) -> httpx.Response:
        """The file's answer, still streaming: the caller relays its body and closes it."""
        request = self.client.build_request(
            "GET",
            f"/api/v1/complaints/{tracking_id}/attachments/{attachment_id}",
            headers=self._headers(visitor, receipt),
        )
        return await self.send(request, stream=True)

    async def reference(self, path: str, etag: str | None) -> httpx.Response:
        """A reference list, asked for as the portal itself (it is the same for everyone): 304 when unchanged."""
        headers = {"If-None-Match": etag} if etag else {}
        try:
            return await self.client.get(path, headers=headers)
        except httpx.HTTPError as exc:
            raise ApiDown(f"{type(exc).__name__}: {exc}") from exc
