"""The webhook API's input and output models."""

from __future__ import annotations

from typing import Annotated

import httpx
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from agency_svc.models import DeliveryStatus
from agency_svc.webhooks.events import WebhookEvent
from shared.http.outputs import UtcDatetime

MAX_URL_LENGTH = 2000


def _http_url(value: str) -> str:
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ValueError(f"not a valid URL: {exc}") from exc
    if url.scheme not in ("http", "https"):
        raise ValueError("the URL must be http or https")
    if not url.host:
        raise ValueError("the URL must name a host")
    if url.port is not None and not 0 < url.port < 65536:
        raise ValueError("the port must be between 1 and 65535")
    if url.userinfo:
        raise ValueError("the URL must not hold a user name or password")
    return value


def _distinct(values: list[WebhookEvent]) -> list[WebhookEvent]:
    return list(dict.fromkeys(values))


WebhookUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_LENGTH, pattern=r"^[\x21-\x7e]+$"),
    AfterValidator(_http_url),
]
EventTypes = Annotated[list[WebhookEvent], Field(min_length=1, max_length=10), AfterValidator(_distinct)]
Secret = Annotated[
    str,
    StringConstraints(min_length=16, max_length=256, pattern=r"^[\x21-\x7e]+$"),
    Field(description="16 to 256 printable ASCII characters without spaces; generated when not given."),
]


class WebhookIn(BaseModel):
    url: WebhookUrl = Field(description="Where to POST: an http or https URL, without a user name or password.")
    event_types: EventTypes = Field(description="The events to push.")
    secret: Secret | None = None


class WebhookPatch(BaseModel):
    url: WebhookUrl | None = None
    event_types: EventTypes | None = None
    secret: Secret | None = Field(default=None, description="A new signing secret; the next attempts use it.")


class WebhookView(BaseModel):
    id: str
    agency_code: str = Field(description="The node the endpoint belongs to: the key's node.")
    url: str
    event_types: list[WebhookEvent]
    created_at: UtcDatetime
    updated_at: UtcDatetime


class WebhookCreated(WebhookView):
    secret: str = Field(description="The signing secret. Shown only in this answer; keep it.")


class WebhookList(BaseModel):
    items: list[WebhookView]


class AttemptView(BaseModel):
    attempted_at: UtcDatetime
    status_code: int | None = Field(description="The receiver's HTTP status; null when no answer came.")
    error: str | None = Field(
        description="Why the attempt failed (a status outside 2xx, a timeout, a refused connection)."
    )
    duration_ms: int


class DeliveryView(BaseModel):
    delivery_id: int
    webhook_id: str = Field(description="The endpoint it is for.")
    event_id: str
    event_type: WebhookEvent
    tracking_id: str
    status: DeliveryStatus = Field(
        description="pending (waiting, or being sent), delivered (a 2xx came back), failed (given up)."
    )
    attempts: int
    created_at: UtcDatetime
    next_attempt_at: UtcDatetime | None = Field(
        description="When it is tried next (it also waits for an earlier pending delivery of its case)."
    )
    give_up_at: UtcDatetime = Field(description="A pending delivery whose attempt fails after this is failed.")
    finished_at: UtcDatetime | None = Field(description="When it was delivered or failed.")
    last_status_code: int | None
    last_error: str | None
    attempt_log: list[AttemptView] = Field(description="Every attempt, oldest first.")


class DeliveryPage(BaseModel):
    items: list[DeliveryView]
    next_offset: int | None = Field(description="The offset of the next page; null on the last page.")
