"""intake_svc: the SMS each phone number (as a keyed hash) sent a day, for the SMS gateway's limits.

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
        "sms_counts",
        sa.Column("number_hash", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number_hash", "day", "kind", name="pk_sms_counts"),
    )
    op.create_index("ix_sms_counts_expires_at", "sms_counts", ["expires_at"])


def downgrade() -> None:
    op.drop_table("sms_counts")
