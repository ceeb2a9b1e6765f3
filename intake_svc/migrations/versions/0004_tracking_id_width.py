"""intake_svc: tracking ids as wide as the other services keep them (40 characters, not 20).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = (
    "complaints",
    "contacts",
    "idempotency_keys",
    "timeline_entries",
    "follow_ups",
    "reporter_messages",
    "ratings",
)
"""`complaints` first: the others' tracking_id references it."""


def _width(before: int, after: int) -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "tracking_id", existing_type=sa.String(before), type_=sa.String(after), existing_nullable=False
            )


def upgrade() -> None:
    _width(20, 40)


def downgrade() -> None:
    _width(40, 20)
