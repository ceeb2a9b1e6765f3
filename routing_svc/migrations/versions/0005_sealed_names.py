"""routing_svc: a named reporter's name is sealed at rest under the service's own keys (cases.reporter_name_sealed).

Names already stored in plaintext are sealed on the way; that needs SIMPUL_ROUTING_ENCRYPTION_KEYS.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from shared.db.migration_ops import seal_plaintext_column_v1, unseal_column_v1

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    seal_plaintext_column_v1("cases", "tracking_id", "reporter_name", "reporter_name_sealed")


def downgrade() -> None:
    unseal_column_v1("cases", "tracking_id", "reporter_name_sealed", "reporter_name")
