"""What an SMS gateway sends for each message it receives, and what it gets back."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from intake_svc.complaints.schemas import Phone
from shared.domain import Status
from shared.http.inputs import IsoDateTime


class InboundSms(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    sender: Phone = Field(alias="from", description="The sender's number: +62 8..., 62 8... or 08...")
    text: str = Field(max_length=5000, description="The message as received (may be empty).")
    message_id: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[\x20-\x7e]+$",
        description="The gateway's id of the message: a redelivery with the same id (from the same number) creates"
        " nothing twice and gets the first answer.",
    )
    received_at: IsoDateTime | None = Field(
        default=None, description="When the gateway received it (informational; the hub files it as of now)."
    )


class SmsKind(StrEnum):
    complaint = "complaint"
    """A new complaint: the reporter gets its tracking id and receipt by SMS (notify's confirmation)."""
    message = "message"
    """A reply added to the case the SMS began with."""
    rejected = "rejected"
    """Nothing was filed; `reason` says why, and `reply` is a text the gateway may send back."""


class SmsOutcome(BaseModel):
    kind: SmsKind
    tracking_id: str | None = Field(description="The case filed or replied to; null when rejected.")
    status: Status | None = Field(description="The case's status; null when rejected.")
    reason: str | None = Field(
        default=None,
        description="Why an SMS was rejected: `not_found` (no such case, or not this number's), `case_closed`,"
        " `message_limit`.",
    )
    reply: str | None = Field(default=None, description="For a rejected SMS: a short text to send back to the sender.")
