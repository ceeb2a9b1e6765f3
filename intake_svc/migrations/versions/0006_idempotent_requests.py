"""intake_svc: the answers of the reporter's and channels' POSTs made with an Idempotency-Key (messages, uploads), so
that a retry does nothing twice.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from shared.db.migration_ops import create_idempotency_table_v1, drop_idempotency_table_v1

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table_v1()


def downgrade() -> None:
    drop_idempotency_table_v1()
