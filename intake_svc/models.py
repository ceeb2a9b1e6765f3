"""intake_svc's tables. The reporter's contact details exist only here, and only sealed."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db.columns import CASE_STATUS, NODE_CODE, TRACKING_ID, UtcDateTime
from shared.db.kit_tables import add_idempotency_table, add_kit_tables, new_metadata
from shared.files.records import attachments_table


class Base(DeclarativeBase):
    metadata = new_metadata()


KIT = add_kit_tables(Base.metadata)
ATTACHMENTS = attachments_table(Base.metadata)
IDEMPOTENCY = add_idempotency_table(Base.metadata)
"""The Idempotency-Keys of the reporter's and channels' other POSTs (a submission's are in `idempotency_keys`)."""


class Complaint(Base):
    """A submission and the reporter's view of its status (as the hub reports it)."""

    __tablename__ = "complaints"

    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, primary_key=True)
    receipt_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    classification: Mapped[str] = mapped_column(String(32), nullable=False)
    category: Mapped[str | None] = mapped_column(String(100), nullable=True)
    region_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    agency_code: Mapped[str | None] = mapped_column(NODE_CODE, nullable=True)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    incident_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    is_anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False)
    is_confidential: Mapped[bool] = mapped_column(Boolean, nullable=False)
    language: Mapped[str] = mapped_column(String(2), nullable=False)
    status: Mapped[str] = mapped_column(CASE_STATUS, nullable=False)
    case_version: Mapped[int] = mapped_column(Integer, nullable=False)
    holder_agency_code: Mapped[str | None] = mapped_column(NODE_CODE, nullable=True)
    expected_answer_by: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    """The hub's date by which the reporter should have an answer (from sla.clocks_changed)."""
    clocks_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    """The clocks_version of the sla.clocks_changed that set `expected_answer_by`; only a newer one applies."""
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class CategoryReplica(Base):
    """The hub's category tree as category.changed tells it (routing_svc owns it): a submission naming a category
    not here, or not active, is taken with a warning."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    classifications: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    description_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    """The version of the category.changed it holds; only a newer one applies."""


class Contact(Base):
    """How to reach the reporter: every field sealed with the service's Fernet keys."""

    __tablename__ = "contacts"

    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, ForeignKey("complaints.tracking_id"), primary_key=True)
    name_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    email_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class IdempotencyKey(Base):
    """A submission's Idempotency-Key (hashed) and its sealed 201 answer, kept for the TTL."""

    __tablename__ = "idempotency_keys"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, nullable=False)
    response_sealed: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)


class TimelineEntry(Base):
    """One line of the reporter's timeline. `entry_key` makes every entry idempotent."""

    __tablename__ = "timeline_entries"
    __table_args__ = (UniqueConstraint("tracking_id", "entry_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, ForeignKey("complaints.tracking_id"), nullable=False)
    entry_key: Mapped[str] = mapped_column(String(100), nullable=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    status: Mapped[str] = mapped_column(CASE_STATUS, nullable=False)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class FollowUp(Base):
    """An agency's follow-up (tindak lanjut), as the reporter sees it."""

    __tablename__ = "follow_ups"

    followup_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tracking_id: Mapped[str] = mapped_column(
        TRACKING_ID, ForeignKey("complaints.tracking_id"), nullable=False, index=True
    )
    agency_code: Mapped[str] = mapped_column(NODE_CODE, nullable=False)
    agency_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    is_final: Mapped[bool] = mapped_column(Boolean, nullable=False)
    posted_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    attachment_ids: Mapped[list[str]] = mapped_column(JSON, nullable=False, server_default=text("'[]'"))
    """The agency's files the follow-up names: the reporter sees those of the agency's files, and no others."""


class ReporterMessage(Base):
    """What the reporter added to the case after submitting it."""

    __tablename__ = "reporter_messages"

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tracking_id: Mapped[str] = mapped_column(
        TRACKING_ID, ForeignKey("complaints.tracking_id"), nullable=False, index=True
    )
    content: Mapped[str] = mapped_column(Text, nullable=False)
    disputes_answer: Mapped[bool] = mapped_column(Boolean, nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class Rating(Base):
    """The reporter's one rating of the answer."""

    __tablename__ = "ratings"

    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, ForeignKey("complaints.tracking_id"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    rated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class SmsCount(Base):
    """How many SMS of a kind (`complaint`, `message`) a phone number sent on a day (WIB). The number is kept only as
    a keyed hash; the rows go once `expires_at` has passed."""

    __tablename__ = "sms_counts"

    number_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
