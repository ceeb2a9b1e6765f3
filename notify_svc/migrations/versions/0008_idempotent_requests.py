"""notify_svc: the answers of the POSTs made with an Idempotency-Key, so that a retry does nothing twice.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from shared.db.migration_ops import create_idempotency_table_v1, drop_idempotency_table_v1

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table_v1()


def downgrade() -> None:
    drop_idempotency_table_v1()
