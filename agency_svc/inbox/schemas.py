"""The agency API's input and output models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.domain import Channel, Classification, NodeCode, RouteKind, Status
from shared.events.contracts import ClockView
from shared.files.schemas import AttachmentView
from shared.http.inputs import JsonBool
from shared.http.outputs import UtcDatetime
from shared.http.paging import THREAD_TAIL

FollowUpText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


@dataclass(frozen=True)
class InboxQuery:
    """The inbox's filters, as query parameters."""

    status: Annotated[Status | None, Query(description="Only cases in this status.")] = None
    overdue: Annotated[
        bool | None,
        Query(
            description="true: only cases with a running clock of the key's subtree past its due time; "
            "false: only the others."
        ),
    ] = None


class CaseSummary(BaseModel):
    """One line of the inbox."""

    model_config = ConfigDict(from_attributes=True)

    tracking_id: str
    title: str
    classification: Classification
    category: str | None
    status: Status
    status_label: str
    agency_code: str
    dispositioned_at: UtcDatetime
    acknowledged_at: UtcDatetime | None
    forward_requested_at: UtcDatetime | None
    escalation_level: int = Field(description="The highest escalation rung the clocks of the key's subtree reached.")
    next_due_at: UtcDatetime | None = Field(
        description="The earliest due time among the running, unpaused clocks of the key's subtree; null if none."
    )


class Inbox(BaseModel):
    items: list[CaseSummary]
    next_offset: int | None = Field(description="The offset of the next page; null on the last page.")


class FollowUpView(BaseModel):
    followup_id: str
    tracking_id: str
    agency_code: str = Field(description="The case's holder when it was posted (the node answering).")
    agency_name: str | None = None
    author_code: str = Field(description="The node whose key posted it: the holder or one of its ancestors.")
    content: str
    is_final: bool
    posted_at: UtcDatetime
    attachment_ids: list[str] = Field(default_factory=list, description="The files it gives (in `attachments`).")


class MessageView(BaseModel):
    message_id: str
    content: str
    disputes_answer: bool
    sent_at: UtcDatetime


class MessagePage(BaseModel):
    """A page of the reporter's messages on a case, newest first."""

    items: list[MessageView]
    next_offset: int | None = Field(description="The offset of the next page; null on the last page.")


class HistoryEntry(BaseModel):
    at: UtcDatetime
    kind: str = Field(
        description="dispositioned, status, acknowledged, follow_up, forward_requested, delegation_requested, "
        "reporter_message"
    )
    status: Status | None = None
    agency_code: str | None = None
    actor: str | None = None
    note: str | None = None


class CaseDetail(BaseModel):
    """A case as its holder (and the holder's ancestors) see it. Never the reporter's contact details."""

    tracking_id: str
    title: str
    content: str
    classification: Classification
    category: str | None
    region_code: str | None
    channel: Channel
    incident_date: date | None
    is_anonymous: bool
    is_confidential: bool
    reporter_name: str | None = Field(description='"Anonim" when the reporter is anonymous.')
    submitted_at: UtcDatetime
    status: Status
    status_label: str
    case_version: int
    agency_code: str
    previous_agency_code: str | None
    route_kind: RouteKind
    disposition_reason: str
    dispositioned_at: UtcDatetime
    acknowledged_at: UtcDatetime | None
    forward_requested_at: UtcDatetime | None
    forward_reason: str | None
    suggested_agency_code: str | None
    delegation_requested_at: UtcDatetime | None
    delegation_target_code: str | None
    final_posted_at: UtcDatetime | None
    clocks: list[ClockView] = Field(
        description="The case's SLA clocks that run against the key's node or a node under it; the hub's own are not "
        "shown. A clock past due is breached whether or not it has stopped; it runs until stopped_at is set."
    )
    escalation_level: int = Field(description="The highest escalation rung those clocks reached; 0 without clocks.")
    follow_ups: list[FollowUpView]
    messages: list[MessageView] = Field(
        description=f"The latest {THREAD_TAIL} of the reporter's messages, oldest first; the rest page through"
        " GET .../messages."
    )
    messages_total: int = Field(description="How many messages the reporter sent on the case in all.")
    messages_next: int | None = Field(
        description="The `offset` at GET .../messages (newest first) where the messages not shown here begin; null"
        " when all are shown."
    )
    history: list[HistoryEntry]
    attachments: list[AttachmentView] = Field(
        default_factory=list,
        description="The case's files: the reporter's and the nodes' (an infected one only to the node that uploaded"
        " it, marked).",
    )


class FollowUpIn(BaseModel):
    content: FollowUpText
    is_final: JsonBool = Field(default=False, description="A final follow-up answers the case (status answered).")
    attachment_ids: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        default_factory=list,
        max_length=50,
        description="The node's files (uploaded first, to .../attachments) that this follow-up gives: the reporter sees"
        " them with it.",
    )


class ForwardIn(BaseModel):
    reason: Reason = Field(description="Why the case is not this node's authority (bukan wewenang).")
    suggested_agency_code: NodeCode | None = Field(default=None, description="The node that should take it.")


class DelegateIn(BaseModel):
    agency_code: NodeCode = Field(description="A strict descendant of the case's holder, inside the key's subtree.")
    reason: Reason | None = None
