"""routing_svc: the hash-chained audit trail (audit_log) and its head (audit_head).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from shared.db.migration_ops import create_audit_tables_v1, drop_audit_tables_v1

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_tables_v1()


def downgrade() -> None:
    drop_audit_tables_v1()
