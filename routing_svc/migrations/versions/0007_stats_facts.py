"""routing_svc: facts kept per case for the hub-wide statistics (routing_svc/stats/facts.py).

- case_facts: one row per case that entered the hub, with its share of every figure;
- stay_facts: one row per answered stay with a node, with its case's entry (the medians' values);
- both indexed by that entry, the index carrying the figures on PostgreSQL (a period is read from the index alone);
- ix_sla_clocks_unbreached_due_at: the running clocks not yet marked breached, whose lateness is judged when asked.

The facts of the cases already stored are computed here, from the same statements that keep them.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from routing_svc.stats.facts import refresh_statements

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
CASE_FIGURES = ["followed_up", "completed", "rating", "sla_met", "sla_breached", "overdue_from"]
STAY_FIGURES = ["response_working_days", "dispositioned_at", "answered_at"]
UNBREACHED_RUNNING = sa.text("stopped_at IS NULL AND paused_at IS NULL AND state <> 'breached'")


def upgrade() -> None:
    op.create_table(
        "case_facts",
        sa.Column("tracking_id", sa.String(40), sa.ForeignKey("cases.tracking_id"), primary_key=True),
        sa.Column("entered_at", TZ, nullable=False),
        sa.Column("followed_up", sa.Integer, nullable=False),
        sa.Column("completed", sa.Integer, nullable=False),
        sa.Column("rating", sa.Integer, nullable=True),
        sa.Column("sla_met", sa.Integer, nullable=False),
        sa.Column("sla_breached", sa.Integer, nullable=False),
        sa.Column("overdue_from", TZ, nullable=True),
    )
    op.create_index("ix_case_facts_entered_at", "case_facts", ["entered_at"], postgresql_include=CASE_FIGURES)
    op.create_table(
        "stay_facts",
        sa.Column("assignment_id", sa.Integer, sa.ForeignKey("assignments.id"), primary_key=True),
        sa.Column("tracking_id", sa.String(40), nullable=False),
        sa.Column("entered_at", TZ, nullable=False),
        sa.Column("response_working_days", sa.Float, nullable=True),
        sa.Column("dispositioned_at", TZ, nullable=False),
        sa.Column("answered_at", TZ, nullable=True),
    )
    op.create_index("ix_stay_facts_tracking_id", "stay_facts", ["tracking_id"])
    op.create_index("ix_stay_facts_entered_at", "stay_facts", ["entered_at"], postgresql_include=STAY_FIGURES)
    op.create_index(
        "ix_sla_clocks_unbreached_due_at",
        "sla_clocks",
        ["due_at"],
        postgresql_where=UNBREACHED_RUNNING,
        sqlite_where=UNBREACHED_RUNNING,
    )
    for statement in refresh_statements(every=True):
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_sla_clocks_unbreached_due_at", "sla_clocks")
    op.drop_table("stay_facts")
    op.drop_table("case_facts")
