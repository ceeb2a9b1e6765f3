"""routing_svc: indexes for the statistics at national scale.

- assignments.dispositioned_at: the cases that entered the hub in a period are found from the stays that began in it;
- case_history (tracking_id, at) for rejections only: whether a stopped clock was stopped by a rejection is one probe
  into a small index instead of a walk through the case's whole history;
- on PostgreSQL, ix_sla_clocks_tracking_id_kind also carries what the SLA figures read of a clock, so they are
  counted from the index alone.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

REJECTED = sa.text("to_status = 'rejected'")
CLOCK_FIGURES = ["agency_code", "state", "stopped_at", "paused_at", "due_at"]


def _clock_index(include: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no INCLUDE: the index stays as it is
    op.drop_index("ix_sla_clocks_tracking_id_kind", "sla_clocks")
    op.create_index("ix_sla_clocks_tracking_id_kind", "sla_clocks", ["tracking_id", "kind"], postgresql_include=include)


def upgrade() -> None:
    op.create_index("ix_assignments_dispositioned_at", "assignments", ["dispositioned_at"])
    op.create_index(
        "ix_case_history_rejected_tracking_id_at",
        "case_history",
        ["tracking_id", "at"],
        postgresql_where=REJECTED,
        sqlite_where=REJECTED,
    )
    _clock_index(CLOCK_FIGURES)


def downgrade() -> None:
    _clock_index([])
    op.drop_index("ix_case_history_rejected_tracking_id_at", "case_history")
    op.drop_index("ix_assignments_dispositioned_at", "assignments")
