"""routing_svc: whistleblowing. Each node may name its integrity node; a WBS case remembers the node it accuses.

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
    with op.batch_alter_table("nodes") as batch:
        batch.add_column(sa.Column("integrity_node_code", sa.String(64), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("accused_agency_code", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("accused_agency_code")
    with op.batch_alter_table("nodes") as batch:
        batch.drop_column("integrity_node_code")
