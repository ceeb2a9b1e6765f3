"""notify_svc: contacts (sealed), notifications (the delivery log), and the kit tables.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.db.migration_ops import create_kit_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "contacts",
        sa.Column("tracking_id", sa.String(40), nullable=False),
        sa.Column("name_sealed", sa.Text, nullable=True),
        sa.Column("email_sealed", sa.Text, nullable=True),
        sa.Column("phone_sealed", sa.Text, nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("is_anonymous", sa.Boolean, nullable=False),
        sa.Column("registered_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("tracking_id", name="pk_contacts"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("tracking_id", sa.String(40), nullable=True),
        sa.Column("recipient_kind", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("context", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.Column("next_attempt_at", tz, nullable=True),
        sa.Column("sent_at", tz, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint(
            "event_id", "recipient_kind", "channel", name="uq_notifications_event_id_recipient_kind_channel"
        ),
    )
    op.create_index("ix_notifications_status_next_attempt_at", "notifications", ["status", "next_attempt_at"])
    op.create_index("ix_notifications_tracking_id_created_at", "notifications", ["tracking_id", "created_at"])
    op.create_index("ix_notifications_created_at", "notifications", ["created_at"])
    create_kit_tables_v1()


def downgrade() -> None:
    for table in ("notifications", "contacts", "outbox", "processed_events", "api_keys"):
        op.drop_table(table)
