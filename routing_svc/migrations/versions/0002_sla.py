"""routing_svc: SLA clocks, policies and settings; escalation and flags on cases; first-response working time.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("berkadar_pengawasan", sa.Boolean, nullable=False, server_default=sa.text("false")))
        batch.add_column(sa.Column("escalation_level", sa.Integer, nullable=False, server_default=sa.text("0")))
        batch.add_column(sa.Column("clocks_version", sa.Integer, nullable=False, server_default=sa.text("0")))
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("first_response_working_days", sa.Float, nullable=True))
    op.create_index("ix_assignments_agency_code_dispositioned_at", "assignments", ["agency_code", "dispositioned_at"])
    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("tracking_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=True),
        sa.Column("timezone", sa.String(32), nullable=False),
        sa.Column("working_days", sa.Integer, nullable=False),
        sa.Column("policy_id", sa.Integer, nullable=True),
        sa.Column("started_at", tz, nullable=False),
        sa.Column("due_at", tz, nullable=False),
        sa.Column("warn_at", tz, nullable=True),
        sa.Column("oversight_at", tz, nullable=True),
        sa.Column("paused_at", tz, nullable=True),
        sa.Column("paused_days", sa.Float, nullable=False),
        sa.Column("stopped_at", tz, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("warned_at", tz, nullable=True),
        sa.Column("breached_at", tz, nullable=True),
        sa.Column("escalation_level", sa.Integer, nullable=False),
        sa.Column("recompute", sa.Boolean, nullable=False),
        sa.Column("next_fire_at", tz, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sla_clocks"),
        sa.ForeignKeyConstraint(["tracking_id"], ["cases.tracking_id"], name="fk_sla_clocks_tracking_id_cases"),
    )
    op.create_index(
        "ix_sla_clocks_next_fire_at",
        "sla_clocks",
        ["next_fire_at"],
        postgresql_where=sa.text("next_fire_at IS NOT NULL"),
        sqlite_where=sa.text("next_fire_at IS NOT NULL"),
    )
    op.create_index("ix_sla_clocks_tracking_id_kind", "sla_clocks", ["tracking_id", "kind"])
    op.create_index("ix_sla_clocks_agency_code_kind", "sla_clocks", ["agency_code", "kind"])
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("classification", sa.String(32), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("berkadar_pengawasan", sa.Boolean, nullable=False),
        sa.Column("working_days", sa.Integer, nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sla_policies"),
        sa.UniqueConstraint(
            "kind",
            "classification",
            "category",
            "agency_code",
            "berkadar_pengawasan",
            name="uq_sla_policies_matchers",
        ),
    )
    op.create_index("ix_sla_policies_kind", "sla_policies", ["kind"])
    op.create_table(
        "sla_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_sla_settings"),
    )


def downgrade() -> None:
    for table in ("sla_settings", "sla_policies", "sla_clocks"):
        op.drop_table(table)
    op.drop_index("ix_assignments_agency_code_dispositioned_at", "assignments")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("first_response_working_days")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("clocks_version")
        batch.drop_column("escalation_level")
        batch.drop_column("berkadar_pengawasan")
