"""The reporter-facing request and response models."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.clock import latest_today
from shared.domain import Channel, Classification, NodeCode, RegionCode, Status
from shared.files.schemas import AttachmentView
from shared.http.inputs import EmailAddress, IsoDate, JsonBool, JsonInt
from shared.http.paging import THREAD_TAIL
from shared.phones import PHONE_INPUT_PATTERN, e164


def _e164(value: str) -> str:
    number = e164(value)
    if number is None:
        raise ValueError("nomor telepon tidak valid; not a phone number")
    return number


Phone = Annotated[
    str,
    Field(
        pattern=PHONE_INPUT_PATTERN,
        description="A mobile number: +62 8..., 62 8... or 08... (stored as +628...). Only Indonesian mobiles unless"
        " the hub accepts other countries.",
    ),
    AfterValidator(_e164),
]


class ReporterIn(BaseModel):
    """Who the reporter is. Sealed at rest; never on a shared event (the name only when not anonymous)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailAddress | None = None
    phone: Phone | None = None


class SubmitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1, max_length=20000)
    classification: Classification
    category: str | None = Field(default=None, min_length=1, max_length=100)
    region_code: RegionCode | None = None
    agency_code: NodeCode | None = Field(default=None, description="The reporter's own choice of agency node.")
    channel: Channel = Channel.web
    incident_date: IsoDate | None = Field(default=None, description="Not in the future.")
    is_anonymous: JsonBool = False
    is_confidential: JsonBool = False
    reporter: ReporterIn | None = None
    language: Literal["id", "en"] = "id"

    @field_validator("incident_date")
    @classmethod
    def _not_in_future(cls, value: date | None) -> date | None:
        if value is not None and value > latest_today():
            raise ValueError("the incident date is in the future")
        return value

    @model_validator(mode="after")
    def _wbs_is_anonymous_and_confidential(self) -> SubmitRequest:
        if self.classification is Classification.wbs:
            self.is_anonymous = True
            self.is_confidential = True
        return self


class WarningCode(StrEnum):
    unknown_category = "unknown_category"
    unknown_region = "unknown_region"


class SubmissionWarning(BaseModel):
    """Something the submission names that the hub does not know; the submission is taken all the same."""

    code: WarningCode = Field(
        description="`unknown_category`: not an active category (GET /api/v1/reference/categories); `unknown_region`:"
        " not a Kemendagri code (GET /api/v1/reference/regions)."
    )
    field: Literal["category", "region_code"]
    message: str = Field(description="In Indonesian, then in English, separated by '; '.")


class SubmitResponse(BaseModel):
    tracking_id: str
    receipt: str = Field(description="The reporter's secret, shown once. Keep it to read and answer the case.")
    status: Status
    submitted_at: datetime
    warnings: list[SubmissionWarning] = Field(
        default_factory=list,
        description="What the hub does not know of the submission (the case waits for a coordinator); empty when it"
        " knows all. A replay with the Idempotency-Key answers the first warnings again.",
    )


class TimelineItem(BaseModel):
    at: datetime
    status: Status
    status_label: str
    note: str | None = None


class FollowUpView(BaseModel):
    followup_id: str
    agency_code: str
    agency_name: str | None = None
    content: str
    is_final: bool
    posted_at: datetime
    attachment_ids: list[str] = Field(default_factory=list, description="The files it names (in `attachments`).")


class MessageView(BaseModel):
    message_id: str
    content: str
    sent_at: datetime
    disputes_answer: bool


class MessagePage(BaseModel):
    """A page of the case's messages, newest first."""

    items: list[MessageView]
    next_offset: int | None = Field(description="The offset of the next page; null on the last page.")


class RatingView(BaseModel):
    score: int
    comment: str | None = None
    rated_at: datetime


class CaseView(BaseModel):
    """The reporter's view of their case."""

    tracking_id: str
    title: str
    classification: Classification
    category: str | None = None
    region_code: str | None = Field(default=None, description="Where it happened, as the reporter said.")
    status: Status
    status_label: str
    is_anonymous: bool
    is_confidential: bool
    submitted_at: datetime
    updated_at: datetime
    agency_code: str | None = Field(default=None, description="The agency node that holds the case now.")
    expected_answer_by: datetime | None = Field(
        default=None,
        description=(
            "The moment (UTC) by which the reporter should have an answer, as the hub's deadlines reckon it in working"
            " days, pauses included; it may move when the case is routed again or postponed. Null while not known yet"
            " and once no answer is awaited (answered, completed, rejected or archived)."
        ),
    )
    expected_answer_date: date | None = Field(
        default=None,
        description=(
            "The calendar date of `expected_answer_by` in WIB (Asia/Jakarta, UTC+7), for display. Null likewise."
        ),
    )
    timeline: list[TimelineItem]
    follow_ups: list[FollowUpView]
    messages: list[MessageView] = Field(
        description=f"The latest {THREAD_TAIL} of the reporter's messages, oldest first; the rest page through"
        " GET .../messages."
    )
    messages_total: int = Field(description="How many messages the case has in all.")
    messages_next: int | None = Field(
        description="The `offset` at GET .../messages (newest first) where the messages not shown here begin; null"
        " when all are shown."
    )
    rating: RatingView | None = None
    attachments: list[AttachmentView] = Field(
        default_factory=list,
        description="The reporter's files (an infected one is marked, and never served) and those an agency's"
        " follow-up names.",
    )


class SenderIn(BaseModel):
    """Whom a channel client writes for: the reporter's email address or phone number, as the case has it on file."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: EmailAddress | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _one_of(self) -> SenderIn:
        if (self.email is None) == (self.phone is None):
            raise ValueError("give the sender's email or phone, one of them")
        return self


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    content: str = Field(min_length=1, max_length=5000)
    sender: SenderIn | None = Field(
        default=None,
        description="With a channel key, and only then: the reporter the channel writes for, who must be the case's"
        " reporter (the email or phone on file).",
    )
    disputes_answer: JsonBool = Field(default=False, description="Disputes the agency's answer (only while answered).")
    accepts_answer: JsonBool = Field(
        default=False, description="Accepts the agency's answer, which completes the case (only while answered)."
    )

    @model_validator(mode="after")
    def _not_both(self) -> MessageIn:
        if self.disputes_answer and self.accepts_answer:
            raise ValueError("a message cannot both accept and dispute the answer")
        return self


class MessageCreated(BaseModel):
    message_id: str
    sent_at: datetime


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    score: JsonInt = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)
