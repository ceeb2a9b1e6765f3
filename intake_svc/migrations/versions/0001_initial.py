"""intake_svc: complaints, sealed contacts, idempotency keys, the reporter's view, and the kit tables.

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
        "complaints",
        sa.Column("tracking_id", sa.String(20), nullable=False),
        sa.Column("receipt_hash", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("classification", sa.String(32), nullable=False),
        sa.Column("category", sa.String(100), nullable=True),
        sa.Column("region_code", sa.String(10), nullable=True),
        sa.Column("agency_code", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("incident_date", sa.Date, nullable=True),
        sa.Column("is_anonymous", sa.Boolean, nullable=False),
        sa.Column("is_confidential", sa.Boolean, nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("case_version", sa.Integer, nullable=False),
        sa.Column("holder_agency_code", sa.String(64), nullable=True),
        sa.Column("submitted_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("tracking_id", name="pk_complaints"),
    )
    op.create_table(
        "contacts",
        sa.Column("tracking_id", sa.String(20), nullable=False),
        sa.Column("name_sealed", sa.Text, nullable=True),
        sa.Column("email_sealed", sa.Text, nullable=True),
        sa.Column("phone_sealed", sa.Text, nullable=True),
        sa.Column("created_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("tracking_id", name="pk_contacts"),
        sa.ForeignKeyConstraint(["tracking_id"], ["complaints.tracking_id"], name="fk_contacts_tracking_id_complaints"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("tracking_id", sa.String(20), nullable=False),
        sa.Column("response_sealed", sa.Text, nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])
    op.create_table(
        "timeline_entries",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("tracking_id", sa.String(20), nullable=False),
        sa.Column("entry_key", sa.String(100), nullable=False),
        sa.Column("at", tz, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_timeline_entries"),
        sa.ForeignKeyConstraint(
            ["tracking_id"], ["complaints.tracking_id"], name="fk_timeline_entries_tracking_id_complaints"
        ),
        sa.UniqueConstraint("tracking_id", "entry_key", name="uq_timeline_entries_tracking_id_entry_key"),
    )
    op.create_table(
        "follow_ups",
        sa.Column("followup_id", sa.String(64), nullable=False),
        sa.Column("tracking_id", sa.String(20), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("agency_name", sa.String(200), nullable=True),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("is_final", sa.Boolean, nullable=False),
        sa.Column("posted_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("followup_id", name="pk_follow_ups"),
        sa.ForeignKeyConstraint(
            ["tracking_id"], ["complaints.tracking_id"], name="fk_follow_ups_tracking_id_complaints"
        ),
    )
    op.create_index("ix_follow_ups_tracking_id", "follow_ups", ["tracking_id"])
    op.create_table(
        "reporter_messages",
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("tracking_id", sa.String(20), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("disputes_answer", sa.Boolean, nullable=False),
        sa.Column("sent_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("message_id", name="pk_reporter_messages"),
        sa.ForeignKeyConstraint(
            ["tracking_id"], ["complaints.tracking_id"], name="fk_reporter_messages_tracking_id_complaints"
        ),
    )
    op.create_index("ix_reporter_messages_tracking_id", "reporter_messages", ["tracking_id"])
    op.create_table(
        "ratings",
        sa.Column("tracking_id", sa.String(20), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("rated_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("tracking_id", name="pk_ratings"),
        sa.ForeignKeyConstraint(["tracking_id"], ["complaints.tracking_id"], name="fk_ratings_tracking_id_complaints"),
    )
    create_kit_tables_v1()


def downgrade() -> None:
    for table in (
        "ratings",
        "reporter_messages",
        "follow_ups",
        "timeline_entries",
        "idempotency_keys",
        "contacts",
        "complaints",
        "outbox",
        "processed_events",
        "api_keys",
    ):
        op.drop_table(table)
