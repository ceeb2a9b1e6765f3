"""routing_svc's tables: the directory, the routing rules, the cases with their history and assignments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db.columns import CASE_STATUS, NODE_CODE, TRACKING_ID, UtcDateTime
from shared.db.kit_tables import add_idempotency_table, add_kit_tables, new_metadata
from shared.files.records import attachments_table


class Base(DeclarativeBase):
    metadata = new_metadata()


KIT = add_kit_tables(Base.metadata)
IDEMPOTENCY = add_idempotency_table(Base.metadata)
ATTACHMENTS = attachments_table(Base.metadata)

ANY = ""
"""A rule matcher left out is stored as '' (not NULL), so candidate lookup is one IN-list on a composite index."""


class Node(Base):
    """A directory node. `path` is materialized ("/ROOT/CHILD/NODE/") so a subtree is a prefix query."""

    __tablename__ = "nodes"
    __table_args__ = (Index("ix_nodes_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),)

    code: Mapped[str] = mapped_column(NODE_CODE, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(NODE_CODE, ForeignKey("nodes.code"), nullable=True, index=True)
    path: Mapped[str] = mapped_column(String(2000), nullable=False)
    depth: Mapped[int] = mapped_column(Integer, nullable=False)
    region_codes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    categories: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    timezone: Mapped[str] = mapped_column(String(32), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    liaison_officers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    integrity_node_code: Mapped[str | None] = mapped_column(NODE_CODE, nullable=True)
    """The integrity node (an inspektorat) that takes whistleblowing reports about this node and its subtree."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    @property
    def path_codes(self) -> list[str]:
        return [p for p in self.path.split("/") if p]


class Category(Base):
    """A node of the category tree (routing_svc/categories). `version` grows with every change; category.changed
    carries it, so a replica applies only a newer one."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("categories.code"), nullable=True, index=True
    )
    classifications: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    """The classifications it serves; empty: all."""
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    description_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class RoutingRule(Base):
    """A routing rule. Matchers left out are '' (see ANY); `specificity` is stored x10 as an integer."""

    __tablename__ = "routing_rules"
    __table_args__ = (
        Index("ix_routing_rules_category_classification_region_code", "category", "classification", "region_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency_code: Mapped[str] = mapped_column(NODE_CODE, ForeignKey("nodes.code"), nullable=False, index=True)
    classification: Mapped[str] = mapped_column(String(32), nullable=False)
    category: Mapped[str] = mapped_column(String(100), nullable=False)
    region_code: Mapped[str] = mapped_column(String(10), nullable=False)
    keywords: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False)
    specificity: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class Case(Base):
    """A complaint as the hub works it: the snapshot from intake plus the state machine's state."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_submitted_at", "status", "submitted_at"),
        Index(
            "ix_cases_accused_agency_code",
            "accused_agency_code",
            postgresql_where=text("accused_agency_code IS NOT NULL"),
            sqlite_where=text("accused_agency_code IS NOT NULL"),
        ),
        Index(
            "ix_cases_flagged_submitted_at",
            "submitted_at",
            postgresql_where=text("flagged"),
            sqlite_where=text("flagged"),
        ),
    )

    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, primary_key=True)
    status: Mapped[str] = mapped_column(CASE_STATUS, nullable=False)
    classification: Mapped[str] = mapped_column(String(32), nullable=False)
    category: Mapped[str | None] = mapped_column(String(100), nullable=True)
    region_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    incident_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    is_anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False)
    is_confidential: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reporter_name_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    chosen_agency_code: Mapped[str | None] = mapped_column(String(200), nullable=True)
    accused_agency_code: Mapped[str | None] = mapped_column(NODE_CODE, nullable=True)
    """For a WBS report: the node it names. The case never goes to it or below it."""
    agency_code: Mapped[str | None] = mapped_column(NODE_CODE, nullable=True, index=True)
    case_version: Mapped[int] = mapped_column(Integer, nullable=False)
    forward_count: Mapped[int] = mapped_column(Integer, nullable=False)
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    berkadar_pengawasan: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    """Flagged by a coordinator as needing examination: the pengaduan resolution clock becomes 60 working days."""
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    """The highest rung of the escalation ladder any of the case's clocks reached (4: oversight)."""
    clocks_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    """Bumped on every change of the case's clocks; orders sla.clocks_changed."""
    flags: Mapped[list[str]] = mapped_column(JSON, nullable=False, server_default=text("'[]'"))
    """What the hub did not know of the submission: `unknown_category`, `unknown_region` (cases/flags.py)."""
    flagged: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    """True when `flags` is not empty: the coordinators' `flagged=true` list (a partial index)."""
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class CaseHistory(Base):
    """One line of a case's history. Appended, never rewritten."""

    __tablename__ = "case_history"
    __table_args__ = (
        Index(
            "ix_case_history_rejected_tracking_id_at",
            "tracking_id",
            "at",
            postgresql_where=text("to_status = 'rejected'"),
            sqlite_where=text("to_status = 'rejected'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, ForeignKey("cases.tracking_id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    from_status: Mapped[str | None] = mapped_column(CASE_STATUS, nullable=True)
    to_status: Mapped[str] = mapped_column(CASE_STATUS, nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    agency_code: Mapped[str | None] = mapped_column(NODE_CODE, nullable=True)
    route_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rule_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    reason_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    case_version: Mapped[int] = mapped_column(Integer, nullable=False)


class Assignment(Base):
    """One stay of a case with a node, from its disposition until it leaves; feeds the statistics."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_agency_code_dispositioned_at", "agency_code", "dispositioned_at"),
        Index("ix_assignments_dispositioned_at", "dispositioned_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, ForeignKey("cases.tracking_id"), nullable=False, index=True)
    agency_code: Mapped[str] = mapped_column(NODE_CODE, nullable=False, index=True)
    route_kind: Mapped[str] = mapped_column(String(32), nullable=False)
    dispositioned_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    first_followup_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    first_response_working_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    """Working time (in the node's timezone) from the disposition to the first acknowledgement or follow-up."""
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


UNBREACHED_RUNNING = "stopped_at IS NULL AND paused_at IS NULL AND state <> 'breached'"
"""Running clocks not (yet) marked breached: the few whose lateness the statistics judge at the time of asking."""


class SlaClock(Base):
    """One SLA clock of a case (see routing_svc/sla). `next_fire_at` is when the sweep must look at it next.

    Kinds: the four SLA clocks (shared.domain.ClockKind) plus `retention`, the hub's own timer that archives a
    completed case; it is never shown as an SLA clock.
    """

    __tablename__ = "sla_clocks"
    __table_args__ = (
        Index(
            "ix_sla_clocks_next_fire_at",
            "next_fire_at",
            postgresql_where=text("next_fire_at IS NOT NULL"),
            sqlite_where=text("next_fire_at IS NOT NULL"),
        ),
        Index(
            "ix_sla_clocks_tracking_id_kind",
            "tracking_id",
            "kind",
            postgresql_include=["agency_code", "state", "stopped_at", "paused_at", "due_at"],
        ),
        Index("ix_sla_clocks_agency_code_kind", "agency_code", "kind"),
        Index(
            "ix_sla_clocks_unbreached_due_at",
            "due_at",
            postgresql_where=text(UNBREACHED_RUNNING),
            sqlite_where=text(UNBREACHED_RUNNING),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, ForeignKey("cases.tracking_id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    agency_code: Mapped[str | None] = mapped_column(NODE_CODE, nullable=True)
    timezone: Mapped[str] = mapped_column(String(32), nullable=False)
    working_days: Mapped[int] = mapped_column(Integer, nullable=False)
    policy_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    warn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    oversight_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    paused_days: Mapped[float] = mapped_column(Float, nullable=False)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False)
    recompute: Mapped[bool] = mapped_column(Boolean, nullable=False)
    next_fire_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class SlaPolicy(Base):
    """A deadline for one clock kind, for the cases its matchers fit. Matchers left out are '' (see ANY)."""

    __tablename__ = "sla_policies"
    __table_args__ = (
        UniqueConstraint(
            "kind", "classification", "category", "agency_code", "berkadar_pengawasan", name="uq_sla_policies_matchers"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    classification: Mapped[str] = mapped_column(String(32), nullable=False)
    category: Mapped[str] = mapped_column(String(100), nullable=False)
    agency_code: Mapped[str] = mapped_column(NODE_CODE, nullable=False)
    berkadar_pengawasan: Mapped[bool] = mapped_column(Boolean, nullable=False)
    """True: the policy is for cases flagged berkadar pengawasan; false: for the others."""
    working_days: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class SlaSetting(Base):
    """Small facts the SLA engine keeps between runs (e.g. the fingerprint of the calendar it computed with)."""

    __tablename__ = "sla_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


CASE_FIGURES = ("followed_up", "completed", "rating", "sla_met", "sla_breached", "overdue_from")
STAY_FIGURES = ("response_working_days", "dispositioned_at", "answered_at")
"""On PostgreSQL the entry indexes carry the figures: a period's are read from the index alone, in entry order."""


class CaseFacts(Base):
    """What the hub-wide statistics count of a case that entered the hub (has a stay with a node), kept by
    routing_svc/stats/facts.py in the transaction that changes the case: one narrow row instead of four joins."""

    __tablename__ = "case_facts"
    __table_args__ = (Index("ix_case_facts_entered_at", "entered_at", postgresql_include=list(CASE_FIGURES)),)

    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, ForeignKey("cases.tracking_id"), primary_key=True)
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    followed_up: Mapped[int] = mapped_column(Integer, nullable=False)
    completed: Mapped[int] = mapped_column(Integer, nullable=False)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sla_met: Mapped[int] = mapped_column(Integer, nullable=False)
    sla_breached: Mapped[int] = mapped_column(Integer, nullable=False)
    overdue_from: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class StayFacts(Base):
    """A stay (assignment) with a node that got a response, with its case's entry into the hub: the medians'
    values, kept with CaseFacts."""

    __tablename__ = "stay_facts"
    __table_args__ = (Index("ix_stay_facts_entered_at", "entered_at", postgresql_include=list(STAY_FIGURES)),)

    assignment_id: Mapped[int] = mapped_column(Integer, ForeignKey("assignments.id"), primary_key=True)
    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, nullable=False, index=True)
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    response_working_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    dispositioned_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
