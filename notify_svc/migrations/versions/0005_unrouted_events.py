"""notify_svc: notification.sent and notification.failed are no longer published (no service consumed them; the
delivery log holds the same). Rows of them still waiting in the outbox are dropped, since the broker no longer lets
notify publish them.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from shared.db.migration_ops import drop_unpublished_v1

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    drop_unpublished_v1(["simpul.notification.sent", "simpul.notification.failed"])


def downgrade() -> None:
    """Nothing to restore: the dropped rows were events no service consumed."""
