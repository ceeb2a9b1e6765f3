"""routing_svc: a partial index on cases.accused_agency_code (set on whistleblowing reports only), so the statistics
find the few reports to leave out of the accused's line without reading every case.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ACCUSED = sa.text("accused_agency_code IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_cases_accused_agency_code",
        "cases",
        ["accused_agency_code"],
        postgresql_where=ACCUSED,
        sqlite_where=ACCUSED,
    )


def downgrade() -> None:
    op.drop_index("ix_cases_accused_agency_code", "cases")
