"""The delivery log as the API shows it: never a recipient's contact details."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from notify_svc.models import NotificationStatus
from shared.http.outputs import UtcDatetime


class DeliveryView(BaseModel):
    """One notification and where its delivery stands."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    event_type: str = Field(description="The event it was made from (notify.digest for a digest).")
    tracking_id: str | None
    recipient_kind: str = Field(description="Who it is for: reporter, liaison or coordinator.")
    recipient_id: str = Field(description="The recipient's id for a liaison or coordinator; empty for the reporter.")
    channel: str = Field(description="How it goes: email or sms (a reporter's is settled when it is sent).")
    template: str = Field(
        description="confirmation, status_changed, followup_posted, reminder (reporter); escalation, digest (officers)."
    )
    status: NotificationStatus
    reason: str | None = Field(
        default=None,
        description="Why skipped (no_contact, no_address, invalid_email, invalid_phone, no_recipient, daily_limit, "
        "no_recipients), failed (max_attempts, recipient_refused) or still waiting (awaiting_contact, quiet_hours).",
    )
    attempts: int
    last_error: str | None
    created_at: UtcDatetime
    sent_at: UtcDatetime | None
    next_attempt_at: UtcDatetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryView]
    next_offset: int | None = Field(description="The offset of the next page; null on the last page.")
