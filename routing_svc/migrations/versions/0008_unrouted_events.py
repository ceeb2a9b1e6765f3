"""routing_svc: complaint.verified, .postponed, .rejected and sla.breached are no longer published (no service
consumed them; complaint.status_changed and the clocks say the same). Rows of them still waiting in the outbox are
dropped, since the broker no longer lets routing publish them.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from shared.db.migration_ops import drop_unpublished_v1

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    drop_unpublished_v1(
        [
            "simpul.complaint.verified",
            "simpul.complaint.postponed",
            "simpul.complaint.rejected",
            "simpul.sla.breached",
        ]
    )


def downgrade() -> None:
    """Nothing to restore: the dropped rows were events no service consumed."""
