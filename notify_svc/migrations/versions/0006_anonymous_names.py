"""notify_svc: an anonymous reporter's name is not notify's to keep. Contacts registered before intake stopped sending
it lose it here; notify never used it (an anonymous reporter is greeted without a name).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    contacts = sa.table("contacts", sa.column("name_sealed", sa.Text), sa.column("is_anonymous", sa.Boolean))
    op.execute(contacts.update().where(contacts.c.is_anonymous.is_(True)).values(name_sealed=None))


def downgrade() -> None:
    """Nothing to restore: the names are gone on purpose."""
