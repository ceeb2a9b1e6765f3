"""agency_svc: each case's SLA clocks from sla.clocks_changed, and the due times of the running ones.

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
    op.create_table(
        "case_clocks",
        sa.Column("tracking_id", sa.String(40), nullable=False),
        sa.Column("clocks", sa.JSON, nullable=False),
        sa.Column("escalation_level", sa.Integer, nullable=False),
        sa.Column("clocks_version", sa.Integer, nullable=False),
        sa.Column("expected_answer_by", tz, nullable=True),
        sa.Column("updated_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("tracking_id", name="pk_case_clocks"),
    )
    op.create_table(
        "case_clock_deadlines",
        sa.Column("tracking_id", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("due_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("tracking_id", "position", name="pk_case_clock_deadlines"),
        sa.ForeignKeyConstraint(
            ["tracking_id"], ["case_clocks.tracking_id"], name="fk_case_clock_deadlines_tracking_id_case_clocks"
        ),
    )
    op.create_index("ix_case_clock_deadlines_due_at", "case_clock_deadlines", ["due_at"])


def downgrade() -> None:
    op.drop_table("case_clock_deadlines")
    op.drop_table("case_clocks")
