"""notify_svc: officers and coordinators (recipients), one message per event and recipient (any channel), the sealed
part of a notification's context, and what the digest and the reminders read of each case.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("recipient_id", sa.String(36), nullable=False, server_default=""))
        batch.add_column(sa.Column("context_sealed", sa.Text, nullable=True))
        batch.drop_constraint("uq_notifications_event_id_recipient_kind_channel", type_="unique")
        batch.create_unique_constraint(
            "uq_notifications_event_id_recipient_kind_recipient_id", ["event_id", "recipient_kind", "recipient_id"]
        )
    op.create_table(
        "recipients",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("node_code", sa.String(64), nullable=True),
        sa.Column("level", sa.Integer, nullable=True),
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("timezone", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("is_system", sa.Boolean, nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_recipients"),
        sa.UniqueConstraint("scope", "email", name="uq_recipients_scope_email"),
    )
    op.create_table(
        "cases",
        sa.Column("tracking_id", sa.String(40), nullable=False),
        sa.Column("timezone", sa.String(32), nullable=True),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("case_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("clocks_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("tracking_id", name="pk_cases"),
    )
    op.create_table(
        "case_deadlines",
        sa.Column("tracking_id", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("clock", sa.String(32), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("due_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("tracking_id", "position", name="pk_case_deadlines"),
    )
    op.create_index("ix_case_deadlines_agency_code_due_at", "case_deadlines", ["agency_code", "due_at"])
    op.create_table(
        "digests",
        sa.Column("node_code", sa.String(64), nullable=False),
        sa.Column("timezone", sa.String(32), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("overdue", sa.Integer, nullable=False),
        sa.Column("due_soon", sa.Integer, nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("node_code", "timezone", "day", name="pk_digests"),
    )


def downgrade() -> None:
    for table in ("digests", "case_deadlines", "cases", "recipients"):
        op.drop_table(table)
    # The old key (event, kind, channel) admits one message per event and kind: officers' messages cannot stay.
    op.execute(sa.text("DELETE FROM notifications WHERE recipient_kind <> 'reporter'"))
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint("uq_notifications_event_id_recipient_kind_recipient_id", type_="unique")
        batch.create_unique_constraint(
            "uq_notifications_event_id_recipient_kind_channel", ["event_id", "recipient_kind", "channel"]
        )
        batch.drop_column("context_sealed")
        batch.drop_column("recipient_id")
