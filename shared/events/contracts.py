"""Every event's data, as a pydantic model. Producers build them; consumers parse them; nobody guesses.

A subject is `simpul.<type>`, except dispositions, which add the target node (`simpul.complaint.dispositioned.X`),
and the private events on `private.notify.<type>`, which only notify_svc may read.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.clock import utc
from shared.crypto import Sealer
from shared.domain import (
    Channel,
    Classification,
    ClockKind,
    ClockState,
    EscalationTarget,
    Role,
    RouteKind,
    ScanStatus,
    Status,
    UploaderKind,
)

SUBJECT_ROOT = "simpul"
PRIVATE_ROOT = "private.notify"


class _Contract(BaseModel):
    """Every datetime in a contract is timezone-aware and in UTC (a naive one is taken as UTC)."""

    model_config = ConfigDict(extra="ignore")

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        return utc(value) if isinstance(value, datetime) else value


class EventData(_Contract):
    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1
    private: ClassVar[bool] = False
    subject_has_node: ClassVar[bool] = False
    """The subject ends with the node the event is for (`simpul.<type>.<agency_code>`)."""
    subject_has_owner: ClassVar[bool] = False
    """Several services publish it, each on its own subject (`simpul.<type>.<service>`), so that the broker grants
    each only its own."""

    def subject(self) -> str:
        root = PRIVATE_ROOT if self.private else SUBJECT_ROOT
        return f"{root}.{self.event_type}"

    def tracking_id_or_none(self) -> str | None:
        return getattr(self, "tracking_id", None)


class CaseSnapshot(_Contract):
    """What an agency needs to work a case. Never contact details; the name only when not anonymous, and sealed."""

    title: str
    content: str
    classification: Classification
    category: str | None = None
    region_code: str | None = None
    channel: Channel
    incident_date: date | None = None
    is_anonymous: bool
    is_confidential: bool
    reporter_name_sealed: str | None = Field(
        default=None,
        description="The reporter's name sealed with the identity ring (shared.identity); None when anonymous.",
    )
    submitted_at: datetime


# intake_svc ---------------------------------------------------------------------------------------


class ComplaintSubmitted(EventData):
    event_type: ClassVar[str] = "complaint.submitted"
    tracking_id: str
    agency_code: str | None = None
    case: CaseSnapshot


class ReporterReplied(EventData):
    event_type: ClassVar[str] = "reporter.replied"
    tracking_id: str
    message_id: str
    content: str
    disputes_answer: bool = False
    accepts_answer: bool = False
    sent_at: datetime


class ReporterRated(EventData):
    event_type: ClassVar[str] = "reporter.rated"
    tracking_id: str
    score: int = Field(ge=1, le=5)
    comment: str | None = None
    rated_at: datetime


class ReporterWithdrew(EventData):
    event_type: ClassVar[str] = "reporter.withdrew"
    tracking_id: str
    reason: str | None = None
    withdrawn_at: datetime


class ContactDetails(_Contract):
    """How to reach a reporter. It travels only sealed, inside contact.registered."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    receipt: str | None = Field(
        default=None,
        description="The case's receipt, for the confirmation alone (when there is an email or a phone to send it to); "
        "notify keeps it sealed until that message is sent, then drops it.",
    )

    def seal(self, sealer: Sealer) -> str:
        return sealer.seal(self.model_dump_json())

    @classmethod
    def opened(cls, token: str, sealer: Sealer) -> ContactDetails:
        return cls.model_validate_json(sealer.open(token))


class ContactRegistered(EventData):
    """Private to notify_svc, on a subject only it may read; the details are sealed with the contact ring as well."""

    event_type: ClassVar[str] = "contact.registered"
    private: ClassVar[bool] = True
    tracking_id: str
    details_sealed: str
    language: str = "id"
    is_anonymous: bool = False


# routing_svc --------------------------------------------------------------------------------------


class ComplaintDispositioned(EventData):
    event_type: ClassVar[str] = "complaint.dispositioned"
    subject_has_node: ClassVar[bool] = True
    tracking_id: str
    agency_code: str
    previous_agency_code: str | None = None
    route_kind: RouteKind
    rule_id: str | None = None
    reason: str
    actor: str
    case_version: int
    case: CaseSnapshot

    def subject(self) -> str:
        return f"{super().subject()}.{self.agency_code}"


class ComplaintStatusChanged(EventData):
    event_type: ClassVar[str] = "complaint.status_changed"
    tracking_id: str
    status: Status
    previous_status: Status | None = None
    agency_code: str | None = None
    actor: str
    reason_code: str | None = None
    reason: str | None = None
    case_version: int
    changed_at: datetime


class ClockView(_Contract):
    """One SLA clock of a case, as the hub, the agency and the reporter may see it."""

    name: ClockKind
    agency_code: str | None = Field(default=None, description="The node the clock runs against; null for the hub's.")
    working_days: int = Field(description="The clock's budget in working days.")
    started_at: datetime
    due_at: datetime = Field(description="The deadline, moved on by any time spent paused.")
    paused: bool
    state: ClockState = Field(description="running, met (stopped in time) or breached (past due, running or not).")
    stopped_at: datetime | None = None
    escalation_level: int = Field(default=0, description="The highest rung of the ladder this clock has reached.")


class SlaClocksChanged(EventData):
    """A case's clocks after any change (start, stop, pause, resume, breach, recompute), ordered by clocks_version."""

    event_type: ClassVar[str] = "sla.clocks_changed"
    tracking_id: str
    agency_code: str | None = None
    clocks: list[ClockView]
    escalation_level: int
    clocks_version: int
    expected_answer_by: datetime | None = None
    changed_at: datetime


class SlaWarning(EventData):
    """80% of a clock's working time is gone."""

    event_type: ClassVar[str] = "sla.warning"
    tracking_id: str
    clock_id: str
    clock: ClockKind
    agency_code: str | None = None
    started_at: datetime
    due_at: datetime
    warned_at: datetime


class ComplaintEscalated(EventData):
    """One rung of the escalation ladder, fired once per clock and level."""

    event_type: ClassVar[str] = "complaint.escalated"
    tracking_id: str
    clock_id: str
    clock: ClockKind
    level: int = Field(ge=1, le=4)
    target: EscalationTarget
    agency_code: str | None = Field(default=None, description="The node holding the case (whose clock is late).")
    target_agency_code: str | None = Field(
        default=None, description="The node told: the holder for `liaison`, its parent for `parent`, else null."
    )
    due_at: datetime
    escalated_at: datetime


class LiaisonContact(_Contract):
    """A liaison officer (pejabat penghubung) as notify_svc writes to them: an officer's work address, never a
    reporter's."""

    name: str
    email: str
    language: str = "id"


class NodeUpserted(EventData):
    """The directory as the other services need it: the node and its path from the root (agency_svc), and its liaison
    officers who have an email (notify_svc: escalation notices and the daily digest; the directory is their only
    source)."""

    event_type: ClassVar[str] = "directory.node_upserted"
    code: str
    name: str
    kind: str
    parent_code: str | None = None
    path: list[str]
    timezone: str
    is_active: bool = True
    liaison_officers: list[LiaisonContact] = Field(default_factory=list)


class CategoryChanged(EventData):
    """A category of the tree (routing_svc/categories), whole, as created or changed: intake_svc keeps a replica to
    tell a reporter that a category is unknown. `version` grows with each change; an older one never overwrites."""

    event_type: ClassVar[str] = "category.changed"
    code: str
    name: str
    name_en: str
    parent_code: str | None = None
    classifications: list[Classification] = Field(default_factory=list)
    description: str | None = None
    description_en: str | None = None
    is_active: bool = True
    version: int


class KeyIssued(EventData):
    event_type: ClassVar[str] = "auth.key_issued"
    key_id: str
    key_hash: str
    prefix: str
    role: Role
    agency_code: str | None = None
    expires_at: datetime | None = None
    issued_at: datetime


class KeyRevoked(EventData):
    event_type: ClassVar[str] = "auth.key_revoked"
    key_id: str
    revoked_at: datetime


# agency_svc ---------------------------------------------------------------------------------------


class AgencyAcknowledged(EventData):
    event_type: ClassVar[str] = "agency.acknowledged"
    tracking_id: str
    agency_code: str
    actor: str
    acknowledged_at: datetime


class FollowupPosted(EventData):
    event_type: ClassVar[str] = "followup.posted"
    tracking_id: str
    followup_id: str
    agency_code: str
    agency_name: str | None = None
    content: str
    is_final: bool
    actor: str
    posted_at: datetime
    attachment_ids: list[str] = Field(
        default_factory=list, description="The agency's files it names (each announced by attachment.added first)."
    )


# files --------------------------------------------------------------------------------------------


class AttachmentMeta(_Contract):
    """What every view shows of a file; never its content."""

    id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    scan_status: ScanStatus
    uploaded_by: str = Field(description="`reporter`, `operator`, or the uploading node's code.")
    uploaded_at: datetime


class AttachmentAdded(EventData):
    """A file stored and recorded by its owner (intake: the reporter's and operators'; agency: the nodes'). The
    bucket and object name let the services that show the case serve it; the key that opens it travels with the
    object, sealed under the hub's file keys."""

    event_type: ClassVar[str] = "attachment.added"
    subject_has_owner: ClassVar[bool] = True
    tracking_id: str
    owner: str = Field(description="The service that stores the file: intake or agency.")
    uploader_kind: UploaderKind
    agency_code: str | None = Field(default=None, description="The uploading node, for an agency's file.")
    bucket: str
    object_name: str
    attachment: AttachmentMeta

    def subject(self) -> str:
        return f"{super().subject()}.{self.owner}"


class AgencyForwardRequested(EventData):
    event_type: ClassVar[str] = "agency.forward_requested"
    tracking_id: str
    agency_code: str
    reason: str
    suggested_agency_code: str | None = None
    actor: str
    requested_at: datetime


class AgencyDelegated(EventData):
    event_type: ClassVar[str] = "agency.delegated"
    tracking_id: str
    from_agency_code: str
    agency_code: str
    reason: str | None = None
    actor: str
    delegated_at: datetime


EVENT_MODELS: dict[str, type[EventData]] = {
    model.event_type: model
    for model in (
        ComplaintSubmitted,
        ReporterReplied,
        ReporterRated,
        ReporterWithdrew,
        ContactRegistered,
        ComplaintDispositioned,
        ComplaintStatusChanged,
        SlaClocksChanged,
        SlaWarning,
        ComplaintEscalated,
        NodeUpserted,
        CategoryChanged,
        KeyIssued,
        KeyRevoked,
        AgencyAcknowledged,
        FollowupPosted,
        AgencyForwardRequested,
        AgencyDelegated,
        AttachmentAdded,
    )
}
