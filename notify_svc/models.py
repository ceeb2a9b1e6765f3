"""notify_svc's tables: reporters' contacts (sealed), the notifications (the delivery log) and the kit tables.

A notification is one message to one recipient on one channel, created from one event: the unique
(event_id, recipient_kind, channel) makes a replayed event create nothing twice. It holds what its template
needs, never contact details; those are looked up, and opened, only at send time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db.kit_tables import add_kit_tables, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


KIT = add_kit_tables(Base.metadata)

TZ = DateTime(timezone=True)


class NotificationStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"
    skipped = "skipped"


class RecipientKind(StrEnum):
    reporter = "reporter"


class NotifyChannel(StrEnum):
    email = "email"


class Contact(Base):
    """How to reach a reporter, from the private contact.registered event. Name, email and phone are sealed."""

    __tablename__ = "contacts"

    tracking_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    email_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    is_anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False)
    registered_at: Mapped[datetime] = mapped_column(TZ, nullable=False)


class Notification(Base):
    """One message to one recipient: its template, the context to render it, and its delivery state.

    `next_attempt_at` is when a sender may pick it (pending only; null once final). A sender that picks it
    pushes `next_attempt_at` out by a lease, so no other sender picks it while it is being sent.
    `reason` says why it is skipped (no_contact, no_email, invalid_email), failed (max_attempts,
    recipient_refused), or waiting (awaiting_contact).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient_kind", "channel"),
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_notifications_tracking_id_created_at", "tracking_id", "created_at"),
        Index("ix_notifications_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    tracking_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    recipient_kind: Mapped[str] = mapped_column(String(32), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    template: Mapped[str] = mapped_column(String(64), nullable=False)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TZ, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(TZ, nullable=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
