"""The attachments table as each service's migration creates it (the first form of shared.files.records)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.db.columns import NODE_CODE, TRACKING_ID


def create_attachments_table() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tracking_id", TRACKING_ID, nullable=False),
        sa.Column("owner", sa.String(16), nullable=False),
        sa.Column("bucket", sa.String(64), nullable=False),
        sa.Column("object_name", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("media_type", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("scan_status", sa.String(16), nullable=False),
        sa.Column("uploader_kind", sa.String(16), nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("agency_code", NODE_CODE, nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("followup_id", sa.String(64), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_attachments_case", "attachments", ["tracking_id", "uploaded_at"])


def drop_attachments_table() -> None:
    op.drop_index("ix_attachments_case", table_name="attachments")
    op.drop_table("attachments")
