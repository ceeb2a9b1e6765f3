"""intake_svc: attachments (the reporter's files, and the agencies' as their events describe them), and the files a
follow-up names.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.files.migration import create_attachments_table, drop_attachments_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_attachments_table()
    with op.batch_alter_table("follow_ups") as batch:
        batch.add_column(sa.Column("attachment_ids", sa.JSON, nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("follow_ups") as batch:
        batch.drop_column("attachment_ids")
    drop_attachments_table()
