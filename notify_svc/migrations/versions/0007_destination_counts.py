"""notify_svc: messages sent to each reporter destination (phone or email, as a keyed hash) per day, for the daily
limit that guards against SMS pumping (notify_svc/sending/daily_limit.py).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "destination_counts",
        sa.Column("destination_hash", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("sent", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("destination_hash", "day", name="pk_destination_counts"),
    )
    op.create_index("ix_destination_counts_day", "destination_counts", ["day"])


def downgrade() -> None:
    op.drop_table("destination_counts")
