"""routing_svc: attachments (every case's files, as their owners' events describe them).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from shared.files.migration import create_attachments_table, drop_attachments_table

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_attachments_table()


def downgrade() -> None:
    drop_attachments_table()
