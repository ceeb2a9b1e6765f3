"""The delivery log as the API shows it: never a recipient's contact details."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from notify_svc.models import NotificationStatus
from notify_svc.timeutil import UtcDatetime


class DeliveryView(BaseModel):
    """One notification and where its delivery stands."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    tracking_id: str | None
    recipient_kind: str = Field(description="Who it is for: reporter.")
    channel: str = Field(description="How it goes: email.")
    template: str = Field(description="status_changed or followup_posted.")
    status: NotificationStatus
    reason: str | None = Field(
        default=None,
        description="Why skipped (no_contact, no_email, invalid_email), failed (max_attempts, recipient_refused) "
        "or still waiting (awaiting_contact).",
    )
    attempts: int
    last_error: str | None
    created_at: UtcDatetime
    sent_at: UtcDatetime | None
    next_attempt_at: UtcDatetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryView]
    next_offset: int | None = Field(description="The offset of the next page; null on the last page.")
