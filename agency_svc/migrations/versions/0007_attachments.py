"""agency_svc: attachments (the nodes' files, and the reporters' as their events describe them).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from shared.files.migration import create_attachments_table, drop_attachments_table

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_attachments_table()


def downgrade() -> None:
    drop_attachments_table()
