"""The hub's case views and the coordinators' decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field, StringConstraints

from shared.domain import Channel, Classification, NodeCode, RejectReason, RouteKind, Status
from shared.events.contracts import ClockView
from shared.files.schemas import AttachmentView
from shared.http.inputs import JsonBool

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


@dataclass(frozen=True)
class CaseQuery:
    """The case search's filters, as query parameters."""

    status: Status | None = None
    agency_code: NodeCode | None = None
    triage: Annotated[bool, Query(description="Only the triage queue: submitted and with no node.")] = False
    overdue: Annotated[bool, Query(description="Only cases with a running clock past its deadline.")] = False
    escalation_level: Annotated[
        int | None, Query(ge=0, le=4, description="Only cases escalated to at least this level.")
    ] = None
    flagged: Annotated[
        bool | None,
        Query(description="Only the cases whose category or region the hub did not know (true), or the others."),
    ] = None


class HistoryEntry(BaseModel):
    at: datetime
    action: str = Field(
        description="submit, dispose, override, postpone, reject, acknowledge, progress, answer, "
        "forward, delegate, triage, resubmit, dispute, complete, withdraw, archive, or note."
    )
    from_status: Status | None
    to_status: Status
    actor: str
    agency_code: str | None = Field(description="The node holding the case after this step.")
    route_kind: RouteKind | None
    rule_id: str | None
    reason_code: str | None
    reason: str | None = Field(
        description="Why: 'rule <id>', \"reporter's choice\", the coordinator's or agency's reason."
    )
    case_version: int


class CaseSummary(BaseModel):
    tracking_id: str
    status: Status
    status_label: str
    classification: Classification
    category: str | None
    region_code: str | None
    title: str
    channel: Channel
    is_confidential: bool
    agency_code: str | None
    submitted_at: datetime
    updated_at: datetime
    case_version: int
    forward_count: int
    escalation_level: int = Field(
        description="The highest rung of the escalation ladder reached: 0 none, 1 the node's liaison, "
        "2 the parent node, 3 the hub's coordinators, 4 the oversight flag (Ombudsman)."
    )
    flags: list[str] = Field(
        default_factory=list,
        description="What the hub did not know of the submission: `unknown_category` (not an active category of the"
        " tree), `unknown_region` (not a Kemendagri code); empty when it knew all. Such a case usually waits in"
        " triage.",
    )


class CaseList(BaseModel):
    items: list[CaseSummary]
    next_offset: int | None


class CaseView(CaseSummary):
    content: str
    incident_date: date | None
    is_anonymous: bool
    reporter_name: str | None = Field(description='"Anonim" when the reporter is anonymous.')
    rating: int | None
    berkadar_pengawasan: bool = Field(description="Needs examination: the pengaduan resolution clock is 60 days.")
    accused_agency_code: str | None = Field(
        description="A whistleblowing report: the node it accuses, which never holds it (nor any node under it)."
    )
    clocks: list[ClockView] = Field(description="Every SLA clock the case has run, oldest first.")
    expected_answer_by: datetime | None = Field(description="What the reporter is told to expect; null once answered.")
    history: list[HistoryEntry]
    attachments: list[AttachmentView] = Field(
        default_factory=list, description="Every file of the case; an infected one is marked and never served."
    )


class DecisionAction(StrEnum):
    dispose = "dispose"
    postpone = "postpone"
    reject = "reject"


class Decision(BaseModel):
    action: DecisionAction
    agency_code: NodeCode | None = Field(default=None, description="dispose: the target node (existing and active).")
    reason: Reason | None = Field(default=None, description="Why; required to postpone.")
    reason_code: RejectReason | None = Field(default=None, description="reject: defaults to not_relevant.")
    berkadar_pengawasan: JsonBool | None = Field(
        default=None, description="dispose: flag (or unflag) a pengaduan as needing examination (60 working days)."
    )


class CaseUpdate(BaseModel):
    berkadar_pengawasan: JsonBool = Field(
        description="Flag a pengaduan as needing examination (berkadar pengawasan): its resolution clock becomes "
        "60 working days (or what a policy says), recomputed at once."
    )
