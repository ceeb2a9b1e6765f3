"""agency_svc's tables: the directory replica, the cases held by agency nodes, and the work done on them.

The directory (`nodes`) and the keys (kit `api_keys`) are replicas of routing_svc's events. A case is one row
keyed by tracking id whose `agency_code` is its current holder, so a re-disposition moves it between inboxes.
A case's SLA clocks (`case_clocks`, `case_clock_deadlines`) are kept apart from `cases`: they may arrive first.
A node's webhook endpoints get a delivery row per case event they take, written with the projection's change.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db.columns import CASE_STATUS, NODE_CODE, TRACKING_ID, UtcDateTime
from shared.db.kit_tables import add_idempotency_table, add_kit_tables, new_metadata
from shared.files.records import attachments_table


class Base(DeclarativeBase):
    metadata = new_metadata()


KIT = add_kit_tables(Base.metadata)
IDEMPOTENCY = add_idempotency_table(Base.metadata)
ATTACHMENTS = attachments_table(Base.metadata)


class Node(Base):
    """A directory node as the hub last described it. `path` is the materialized path "/ROOT/.../CODE/"."""

    __tablename__ = "nodes"
    __table_args__ = (
        # text_pattern_ops lets PostgreSQL serve `path LIKE '/A/B/%'` (a subtree) from the index.
        Index("ix_nodes_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
    )

    code: Mapped[str] = mapped_column(NODE_CODE, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(NODE_CODE, nullable=True)
    path: Mapped[str] = mapped_column(String(2000), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    """When the applied NodeUpserted occurred; an older event never overwrites a newer one."""


class Case(Base):
    """A case as its current holder sees it: the hub's snapshot, status, and the node's local flags.

    `case_version` is the newest hub version applied (status); `disposition_version` the newest disposition.
    """

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_agency_code_dispositioned_at", "agency_code", "dispositioned_at"),)

    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, primary_key=True)
    agency_code: Mapped[str] = mapped_column(NODE_CODE, nullable=False)
    previous_agency_code: Mapped[str | None] = mapped_column(NODE_CODE, nullable=True)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    classification: Mapped[str] = mapped_column(String(32), nullable=False)
    category: Mapped[str | None] = mapped_column(String(200), nullable=True)
    region_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    incident_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    is_anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False)
    is_confidential: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reporter_name_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    status: Mapped[str] = mapped_column(CASE_STATUS, nullable=False)
    case_version: Mapped[int] = mapped_column(Integer, nullable=False)
    disposition_version: Mapped[int] = mapped_column(Integer, nullable=False)
    route_kind: Mapped[str] = mapped_column(String(32), nullable=False)
    rule_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    disposition_reason: Mapped[str] = mapped_column(Text, nullable=False)
    dispositioned_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    forward_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    forward_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    forward_suggested_code: Mapped[str | None] = mapped_column(NODE_CODE, nullable=True)
    delegation_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    delegation_target_code: Mapped[str | None] = mapped_column(NODE_CODE, nullable=True)
    final_posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    """Set when the hub says no agency holds the case any more (triage); the case then leaves every inbox."""
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class FollowUp(Base):
    """A follow-up (tindak lanjut) posted through this service."""

    __tablename__ = "follow_ups"

    followup_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, ForeignKey("cases.tracking_id"), nullable=False, index=True)
    agency_code: Mapped[str] = mapped_column(NODE_CODE, nullable=False)
    agency_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    author_code: Mapped[str] = mapped_column(NODE_CODE, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    is_final: Mapped[bool] = mapped_column(Boolean, nullable=False)
    posted_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class CaseMessage(Base):
    """What the reporter added to the case (reporter.replied), as the holder reads it."""

    __tablename__ = "case_messages"

    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, ForeignKey("cases.tracking_id"), nullable=False, index=True)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    disputes_answer: Mapped[bool] = mapped_column(Boolean, nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class CaseHistory(Base):
    """The case's local history: dispositions, hub statuses and the node's actions. `entry_key` dedupes."""

    __tablename__ = "case_history"
    __table_args__ = (UniqueConstraint("tracking_id", "entry_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, ForeignKey("cases.tracking_id"), nullable=False)
    entry_key: Mapped[str] = mapped_column(String(100), nullable=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str | None] = mapped_column(CASE_STATUS, nullable=True)
    agency_code: Mapped[str | None] = mapped_column(NODE_CODE, nullable=True)
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class CaseClocks(Base):
    """A case's SLA clocks as the hub last published them (sla.clocks_changed), whether or not the case is held here.

    `clocks` holds the event's ClockView dicts (times in UTC); a smaller `clocks_version` never overwrites a larger.
    """

    __tablename__ = "case_clocks"

    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, primary_key=True)
    clocks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False)
    clocks_version: Mapped[int] = mapped_column(Integer, nullable=False)
    expected_answer_by: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    """The event's `changed_at`."""


class CaseClockDeadline(Base):
    """One running, unpaused clock of an agency node, by due time: what the inbox's `overdue` filter looks up.

    Rewritten with `case_clocks` whenever a newer clocks_version arrives. `position` is the clock's index in the
    event's list. A node's clocks only: the hub's own (agency_code null) are never shown to agencies.
    """

    __tablename__ = "case_clock_deadlines"

    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, ForeignKey("case_clocks.tracking_id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    agency_code: Mapped[str] = mapped_column(NODE_CODE, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)


class WebhookEndpoint(Base):
    """Where a node's system wants case events pushed, which ones, and the secret (sealed) that signs them."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_code: Mapped[str] = mapped_column(NODE_CODE, nullable=False, index=True)
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    secret_sealed: Mapped[str] = mapped_column(Text, nullable=False)
    event_types: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookDelivery(Base):
    """One event for one endpoint: its body (fixed when made), its state and when it is tried next.

    `id` orders a case's deliveries to an endpoint: one waits while an earlier one of the same case is pending.
    `leased_until` is set while a sender holds it; `give_up_at` is when a failed attempt fails it for good.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_endpoint_id_tracking_id_id", "endpoint_id", "tracking_id", "id"),
        Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_finished_at", "finished_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False
    )
    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, nullable=False)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    give_up_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    leased_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    """When it was delivered or failed for good."""


class WebhookAttempt(Base):
    """One try of a delivery: when, the receiver's status code or the error, and how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False, index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
