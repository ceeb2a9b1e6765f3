"""routing_svc: the directory, routing rules, cases, their history and assignments, and the kit tables.

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
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("parent_code", sa.String(64), nullable=True),
        sa.Column("path", sa.String(2000), nullable=False),
        sa.Column("depth", sa.Integer, nullable=False),
        sa.Column("region_codes", sa.JSON, nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("timezone", sa.String(32), nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("liaison_officers", sa.JSON, nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_nodes"),
        sa.ForeignKeyConstraint(["parent_code"], ["nodes.code"], name="fk_nodes_parent_code_nodes"),
    )
    op.create_index("ix_nodes_parent_code", "nodes", ["parent_code"])
    op.create_index("ix_nodes_path", "nodes", ["path"], postgresql_ops={"path": "varchar_pattern_ops"})
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("classification", sa.String(32), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("region_code", sa.String(10), nullable=False),
        sa.Column("keywords", sa.JSON, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("specificity", sa.Integer, nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_routing_rules"),
        sa.ForeignKeyConstraint(["agency_code"], ["nodes.code"], name="fk_routing_rules_agency_code_nodes"),
    )
    op.create_index("ix_routing_rules_agency_code", "routing_rules", ["agency_code"])
    op.create_index(
        "ix_routing_rules_category_classification_region_code",
        "routing_rules",
        ["category", "classification", "region_code"],
    )
    op.create_table(
        "cases",
        sa.Column("tracking_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("classification", sa.String(32), nullable=False),
        sa.Column("category", sa.String(100), nullable=True),
        sa.Column("region_code", sa.String(10), nullable=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("incident_date", sa.Date, nullable=True),
        sa.Column("is_anonymous", sa.Boolean, nullable=False),
        sa.Column("is_confidential", sa.Boolean, nullable=False),
        sa.Column("reporter_name", sa.Text, nullable=True),
        sa.Column("chosen_agency_code", sa.String(200), nullable=True),
        sa.Column("agency_code", sa.String(64), nullable=True),
        sa.Column("case_version", sa.Integer, nullable=False),
        sa.Column("forward_count", sa.Integer, nullable=False),
        sa.Column("verified_at", tz, nullable=True),
        sa.Column("rating", sa.Integer, nullable=True),
        sa.Column("rated_at", tz, nullable=True),
        sa.Column("submitted_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("tracking_id", name="pk_cases"),
    )
    op.create_index("ix_cases_agency_code", "cases", ["agency_code"])
    op.create_index("ix_cases_status_submitted_at", "cases", ["status", "submitted_at"])
    op.create_table(
        "case_history",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("tracking_id", sa.String(40), nullable=False),
        sa.Column("at", tz, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=True),
        sa.Column("route_kind", sa.String(32), nullable=True),
        sa.Column("rule_id", sa.String(36), nullable=True),
        sa.Column("reason_code", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("case_version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_history"),
        sa.ForeignKeyConstraint(["tracking_id"], ["cases.tracking_id"], name="fk_case_history_tracking_id_cases"),
    )
    op.create_index("ix_case_history_tracking_id", "case_history", ["tracking_id"])
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("tracking_id", sa.String(40), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("route_kind", sa.String(32), nullable=False),
        sa.Column("dispositioned_at", tz, nullable=False),
        sa.Column("acknowledged_at", tz, nullable=True),
        sa.Column("first_followup_at", tz, nullable=True),
        sa.Column("ended_at", tz, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_assignments"),
        sa.ForeignKeyConstraint(["tracking_id"], ["cases.tracking_id"], name="fk_assignments_tracking_id_cases"),
    )
    op.create_index("ix_assignments_tracking_id", "assignments", ["tracking_id"])
    op.create_index("ix_assignments_agency_code", "assignments", ["agency_code"])
    create_kit_tables_v1()


def downgrade() -> None:
    for table in (
        "assignments",
        "case_history",
        "cases",
        "routing_rules",
        "nodes",
        "outbox",
        "processed_events",
        "api_keys",
    ):
        op.drop_table(table)
