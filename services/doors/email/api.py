"""The hub's public API as the email door uses it, with its channel key. Each call says whether the API took it,
refused it for good, or could not answer now (then the whole mail is tried again later)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from services.doors.email.parsing import Attachment


class TryLater(Exception):
    """The API could not take it now (down, overloaded, the key not known yet): the mail must be offered again."""


@dataclass(frozen=True)
class Refused:
    """The API refused it for good."""

    status: int
    code: str


@dataclass(frozen=True)
class Submitted:
    tracking_id: str
    receipt: str
    replayed: bool


_TEMPORARY = frozenset({401, 408, 425, 429})
"""401: a new channel key reaches the services as an event, a moment after it is issued."""
_TEMPORARY_CODES = frozenset({"idempotency_key_in_use"})
"""409 while the same key is still being handled (the same mail delivered twice at once): the first may yet fail."""


class HubApi:
    def __init__(self, base_url: str, key: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None):
        self.client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {key}", "User-Agent": "simpul-email-door"},
            timeout=timeout,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def submit(self, body: dict[str, Any], idempotency_key: str) -> Submitted | Refused:
        """POST /api/v1/complaints."""
        answer = await self._send("POST", "/api/v1/complaints", json=body, headers={"Idempotency-Key": idempotency_key})
        if answer.status_code != 201:
            return _refused(answer)
        data = answer.json()
        replayed = answer.headers.get("Idempotent-Replayed") == "true"
        return Submitted(tracking_id=data["tracking_id"], receipt=data["receipt"], replayed=replayed)

    async def upload(
        self, tracking_id: str, receipt: str, file: Attachment, idempotency_key: str
    ) -> dict[str, Any] | Refused:
        """POST /api/v1/complaints/{tracking_id}/attachments, with the submission's receipt."""
        answer = await self._send(
            "POST",
            f"/api/v1/complaints/{tracking_id}/attachments",
            files={"file": (file.filename, file.data, file.media_type)},
            headers={"X-Receipt": receipt, "Idempotency-Key": idempotency_key},
        )
        if answer.status_code != 201:
            return _refused(answer)
        data: dict[str, Any] = answer.json()
        return data

    async def add_message(
        self, tracking_id: str, content: str, sender_email: str, idempotency_key: str
    ) -> dict[str, Any] | Refused:
        """POST /api/v1/complaints/{tracking_id}/messages on the reporter's behalf (the channel key names them)."""
        answer = await self._send(
            "POST",
            f"/api/v1/complaints/{tracking_id}/messages",
            json={"content": content, "sender": {"email": sender_email}},
            headers={"Idempotency-Key": idempotency_key},
        )
        if answer.status_code != 201:
            return _refused(answer)
        data: dict[str, Any] = answer.json()
        return data

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            answer = await self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TryLater(f"{method} {path}: {type(exc).__name__}") from exc
        if answer.status_code >= 500 or answer.status_code in _TEMPORARY or _code(answer) in _TEMPORARY_CODES:
            raise TryLater(f"{method} {path}: {answer.status_code} {_code(answer)}")
        return answer


def _refused(answer: httpx.Response) -> Refused:
    return Refused(status=answer.status_code, code=_code(answer))


def _code(answer: httpx.Response) -> str:
    try:
        return str(answer.json()["error"]["code"])
    except Exception:
        return "unknown"
