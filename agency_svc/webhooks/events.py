"""The events a node may take by webhook, and the body each delivery carries.

A body names what changed and never the reporter: no contact details and no name (a receiver that needs the
case's content GETs it through the agency API, which shows what the key may see).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from agency_svc.models import Case
from shared.domain import STATUS_LABELS, Classification, RouteKind, Status
from shared.events import Envelope
from shared.events.contracts import (
    AttachmentAdded,
    AttachmentMeta,
    ComplaintDispositioned,
    ComplaintStatusChanged,
    ReporterReplied,
)
from shared.http.outputs import UtcDatetime

CaseEvent = ComplaintDispositioned | ComplaintStatusChanged | ReporterReplied | AttachmentAdded


class WebhookEvent(StrEnum):
    dispositioned = "complaint.dispositioned"
    status_changed = "complaint.status_changed"
    reporter_replied = "reporter.replied"
    attachment_added = "attachment.added"


class DispositionedData(BaseModel):
    agency_code: str = Field(description="The node the case was dispositioned to: its holder now.")
    previous_agency_code: str | None
    classification: Classification
    category: str | None
    status: Status
    case_version: int
    route_kind: RouteKind
    reason: str
    dispositioned_at: UtcDatetime


class StatusChangedData(BaseModel):
    status: Status
    status_label: str
    previous_status: Status | None
    reason: str | None
    case_version: int
    changed_at: UtcDatetime


class ReporterRepliedData(BaseModel):
    message_id: str = Field(description="The message's id in the case's `messages` (GET the case for its text).")
    disputes_answer: bool
    accepts_answer: bool
    sent_at: UtcDatetime


class WebhookBody(BaseModel):
    """What a delivery's POST carries, as JSON."""

    event_id: str = Field(description="The event's id, the same for every endpoint and every attempt.")
    event_type: WebhookEvent
    occurred_at: UtcDatetime
    tracking_id: str
    agency_code: str = Field(description="The case's holder (the receiving node or a node under it).")
    data: DispositionedData | StatusChangedData | ReporterRepliedData | AttachmentMeta = Field(
        description="What changed. For attachment.added, the file's metadata only: fetch the file itself through the"
        " agency API."
    )


def _data(event: CaseEvent, case: Case) -> DispositionedData | StatusChangedData | ReporterRepliedData | AttachmentMeta:
    if isinstance(event, AttachmentAdded):
        return event.attachment
    if isinstance(event, ComplaintDispositioned):
        return DispositionedData(
            agency_code=event.agency_code,
            previous_agency_code=case.previous_agency_code,
            classification=Classification(case.classification),
            category=case.category,
            status=Status(case.status),
            case_version=event.case_version,
            route_kind=event.route_kind,
            reason=event.reason,
            dispositioned_at=case.dispositioned_at,
        )
    if isinstance(event, ComplaintStatusChanged):
        return StatusChangedData(
            status=event.status,
            status_label=STATUS_LABELS[event.status],
            previous_status=event.previous_status,
            reason=event.reason,
            case_version=event.case_version,
            changed_at=event.changed_at,
        )
    return ReporterRepliedData(
        message_id=event.message_id,
        disputes_answer=event.disputes_answer,
        accepts_answer=event.accepts_answer,
        sent_at=event.sent_at,
    )


def body_for(envelope: Envelope, event: CaseEvent, case: Case) -> str:
    """The JSON a delivery of this event sends; fixed when the delivery is made."""
    return WebhookBody(
        event_id=str(envelope.id),
        event_type=WebhookEvent(envelope.type),
        occurred_at=envelope.occurred_at,
        tracking_id=case.tracking_id,
        agency_code=case.agency_code,
        data=_data(event, case),
    ).model_dump_json()
