"""agency_svc: the directory replica, cases, follow-ups, reporter messages, case history, and the kit tables.

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
        "nodes",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("parent_code", sa.String(64), nullable=True),
        sa.Column("path", sa.String(2000), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_nodes"),
    )
    op.create_index("ix_nodes_path", "nodes", ["path"], postgresql_ops={"path": "text_pattern_ops"})
    op.create_table(
        "cases",
        sa.Column("tracking_id", sa.String(40), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("previous_agency_code", sa.String(64), nullable=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("classification", sa.String(32), nullable=False),
        sa.Column("category", sa.String(200), nullable=True),
        sa.Column("region_code", sa.String(20), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("incident_date", sa.Date, nullable=True),
        sa.Column("is_anonymous", sa.Boolean, nullable=False),
        sa.Column("is_confidential", sa.Boolean, nullable=False),
        sa.Column("reporter_name", sa.Text, nullable=True),
        sa.Column("submitted_at", tz, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("case_version", sa.Integer, nullable=False),
        sa.Column("disposition_version", sa.Integer, nullable=False),
        sa.Column("route_kind", sa.String(32), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=True),
        sa.Column("disposition_reason", sa.Text, nullable=False),
        sa.Column("dispositioned_at", tz, nullable=False),
        sa.Column("acknowledged_at", tz, nullable=True),
        sa.Column("forward_requested_at", tz, nullable=True),
        sa.Column("forward_reason", sa.Text, nullable=True),
        sa.Column("forward_suggested_code", sa.String(64), nullable=True),
        sa.Column("delegation_requested_at", tz, nullable=True),
        sa.Column("delegation_target_code", sa.String(64), nullable=True),
        sa.Column("final_posted_at", tz, nullable=True),
        sa.Column("released_at", tz, nullable=True),
        sa.Column("updated_at", tz, nullable=False),
        sa.Column("push_due_at", tz, nullable=True),
        sa.Column("push_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("tracking_id", name="pk_cases"),
    )
    op.create_index("ix_cases_agency_code_dispositioned_at", "cases", ["agency_code", "dispositioned_at"])
    op.create_index("ix_cases_push_due_at", "cases", ["push_due_at"])
    op.create_table(
        "follow_ups",
        sa.Column("followup_id", sa.String(36), nullable=False),
        sa.Column("tracking_id", sa.String(40), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("agency_name", sa.String(300), nullable=True),
        sa.Column("author_code", sa.String(64), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("is_final", sa.Boolean, nullable=False),
        sa.Column("posted_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("followup_id", name="pk_follow_ups"),
        sa.ForeignKeyConstraint(["tracking_id"], ["cases.tracking_id"], name="fk_follow_ups_tracking_id_cases"),
    )
    op.create_index("ix_follow_ups_tracking_id", "follow_ups", ["tracking_id"])
    op.create_table(
        "case_messages",
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("tracking_id", sa.String(40), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("disputes_answer", sa.Boolean, nullable=False),
        sa.Column("sent_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("message_id", name="pk_case_messages"),
        sa.ForeignKeyConstraint(["tracking_id"], ["cases.tracking_id"], name="fk_case_messages_tracking_id_cases"),
    )
    op.create_index("ix_case_messages_tracking_id", "case_messages", ["tracking_id"])
    op.create_table(
        "case_history",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("tracking_id", sa.String(40), nullable=False),
        sa.Column("entry_key", sa.String(100), nullable=False),
        sa.Column("at", tz, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("agency_code", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_case_history"),
        sa.ForeignKeyConstraint(["tracking_id"], ["cases.tracking_id"], name="fk_case_history_tracking_id_cases"),
        sa.UniqueConstraint("tracking_id", "entry_key", name="uq_case_history_tracking_id_entry_key"),
    )
    create_kit_tables_v1()


def downgrade() -> None:
    for table in (
        "case_history",
        "case_messages",
        "follow_ups",
        "cases",
        "nodes",
        "outbox",
        "processed_events",
        "api_keys",
    ):
        op.drop_table(table)
