"""routing_svc: the category tree, and the flags a case gets when the hub did not know its category or region.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FLAGGED = sa.text("flagged")


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("parent_code", sa.String(64), nullable=True),
        sa.Column("classifications", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("description_en", sa.Text, nullable=True),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_categories"),
        sa.ForeignKeyConstraint(["parent_code"], ["categories.code"], name="fk_categories_parent_code_categories"),
    )
    op.create_index("ix_categories_parent_code", "categories", ["parent_code"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("flags", sa.JSON, nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("flagged", sa.Boolean, nullable=False, server_default=sa.text("false")))
    op.create_index(
        "ix_cases_flagged_submitted_at", "cases", ["submitted_at"], postgresql_where=FLAGGED, sqlite_where=FLAGGED
    )


def downgrade() -> None:
    op.drop_index("ix_cases_flagged_submitted_at", "cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("flagged")
        batch.drop_column("flags")
    op.drop_index("ix_categories_parent_code", "categories")
    op.drop_table("categories")
