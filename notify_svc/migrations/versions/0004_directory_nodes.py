"""notify_svc: the directory nodes whose liaison officers notify keeps (from directory.node_upserted).

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


def upgrade() -> None:
    op.create_table(
        "directory_nodes",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("timezone", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_directory_nodes"),
    )


def downgrade() -> None:
    op.drop_table("directory_nodes")
