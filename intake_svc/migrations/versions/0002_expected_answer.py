"""intake_svc: the expected date of an answer on the reporter's view, and the clocks_version that set it.

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
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("expected_answer_by", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("clocks_version", sa.Integer, nullable=False, server_default=sa.text("0")))


def downgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("clocks_version")
        batch.drop_column("expected_answer_by")
