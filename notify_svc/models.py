"""notify_svc's tables: reporters' contacts (sealed), officers and coordinators (recipients) and the directory nodes
their officers came with, the notifications (the delivery log), the little it keeps of each case (its timezone, status
and running deadlines), the digests it has made, and the kit tables.

A notification is one message to one recipient, created from one event: the unique (event_id, recipient_kind,
recipient_id) makes a replayed event create nothing twice, and one recipient gets one message per event, on one
channel. It holds what its template needs, never contact details; those are looked up, and opened, only at send time.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db.columns import CASE_STATUS, NODE_CODE, TRACKING_ID, UtcDateTime
from shared.db.kit_tables import add_idempotency_table, add_kit_tables, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


KIT = add_kit_tables(Base.metadata)
IDEMPOTENCY = add_idempotency_table(Base.metadata)


class NotificationStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"
    skipped = "skipped"


class RecipientKind(StrEnum):
    reporter = "reporter"
    liaison = "liaison"
    coordinator = "coordinator"


class NotifyChannel(StrEnum):
    email = "email"
    sms = "sms"


class Contact(Base):
    """How to reach a reporter, from the private contact.registered event. Name, email and phone are sealed."""

    __tablename__ = "contacts"

    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, primary_key=True)
    name_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    email_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    is_anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class Recipient(Base):
    """A liaison officer of a node (`node_code`) or a coordinator at one rung of the ladder (`level`).

    `scope` is `node:<code>` or `level:<n>`, so one address is there once per node or rung. Liaison officers are the
    directory's, copied from directory.node_upserted (their timezone is the node's; never changed here); coordinators
    are registered by admins through the API. Work addresses; never logged. `is_system` marks a coordinator mailbox
    read by a system (a ticketing queue, say): quiet hours do not hold its messages back.
    """

    __tablename__ = "recipients"
    __table_args__ = (UniqueConstraint("scope", "email"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    node_code: Mapped[str | None] = mapped_column(NODE_CODE, nullable=True)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scope: Mapped[str] = mapped_column(String(80), nullable=False)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    timezone: Mapped[str] = mapped_column(String(32), nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    is_system: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class DirectoryNode(Base):
    """A node of routing's directory whose directory.node_upserted was applied: when it occurred, so that an older
    one (a dead letter replayed) never brings back officers a newer one removed."""

    __tablename__ = "directory_nodes"

    code: Mapped[str] = mapped_column(NODE_CODE, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(32), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class Notification(Base):
    """One message to one recipient: its template, the context to render it, and its delivery state.

    `recipient_id` is empty for the reporter (one per case) and the recipient's id for an officer or coordinator.
    `channel` is the recipient's: for a reporter, email when they left an address, else SMS; it is settled when the
    message is sent. `context_sealed` holds what must not rest in the clear (the receipt, in the confirmation only),
    sealed, and is emptied once the notification is sent, failed or skipped.
    `next_attempt_at` is when a sender may pick it (pending only; null once final). A sender that picks it
    pushes `next_attempt_at` out by a lease, so no other sender picks it while it is being sent.
    `reason` says why it is skipped (no_contact, no_address, invalid_email, invalid_phone, no_recipient,
    no_recipients, daily_limit), failed (max_attempts, recipient_refused), or waiting (awaiting_contact, quiet_hours).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient_kind", "recipient_id"),
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_notifications_tracking_id_created_at", "tracking_id", "created_at"),
        Index("ix_notifications_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    tracking_id: Mapped[str | None] = mapped_column(TRACKING_ID, nullable=True)
    recipient_kind: Mapped[str] = mapped_column(String(32), nullable=False)
    recipient_id: Mapped[str] = mapped_column(String(36), nullable=False, server_default="")
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    template: Mapped[str] = mapped_column(String(64), nullable=False)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    context_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CaseState(Base):
    """What notify knows of a case: the reporter's timezone (from the case's region), its status (for the
    reminder's wording) and the versions that order the events it came from."""

    __tablename__ = "cases"

    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, primary_key=True)
    timezone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str | None] = mapped_column(CASE_STATUS, nullable=True)
    case_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    clocks_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class CaseDeadline(Base):
    """One running, unpaused clock of a node, from the case's latest sla.clocks_changed: what the digest reads."""

    __tablename__ = "case_deadlines"
    __table_args__ = (Index("ix_case_deadlines_agency_code_due_at", "agency_code", "due_at"),)

    tracking_id: Mapped[str] = mapped_column(TRACKING_ID, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    clock: Mapped[str] = mapped_column(String(32), nullable=False)
    agency_code: Mapped[str] = mapped_column(NODE_CODE, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class Digest(Base):
    """One node's daily digest for the liaison officers in one timezone, made once per local date."""

    __tablename__ = "digests"

    node_code: Mapped[str] = mapped_column(NODE_CODE, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    overdue: Mapped[int] = mapped_column(Integer, nullable=False)
    due_soon: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class DestinationCount(Base):
    """How many messages went to one reporter destination (a phone number or an email address) on one day.

    `destination_hash` is an HMAC of the channel and the address under a key derived from the service's encryption
    key: the plain number or address is never stored here. Rows older than yesterday are deleted as new days begin.
    """

    __tablename__ = "destination_counts"
    __table_args__ = (Index("ix_destination_counts_day", "day"),)

    destination_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, nullable=False)
