"""The attachments table every service that shows a case keeps: its owner's own files, and the others' as their
attachment.added events describe them. Never the content: that is in the owner's bucket."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    MetaData,
    Row,
    String,
    Table,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.columns import NODE_CODE, TRACKING_ID, UtcDateTime
from shared.db.dialect import dialect_of, insert_ignore
from shared.events.contracts import AttachmentAdded, AttachmentMeta
from shared.events.topology import Service, bucket_of
from shared.files.schemas import AttachmentView


def attachments_table(metadata: MetaData) -> Table:
    return Table(
        "attachments",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("tracking_id", TRACKING_ID, nullable=False),
        Column("owner", String(16), nullable=False),
        Column("bucket", String(64), nullable=False),
        Column("object_name", String(64), nullable=False),
        Column("filename", String(255), nullable=False),
        Column("media_type", String(128), nullable=False),
        Column("size", BigInteger, nullable=False),
        Column("sha256", String(64), nullable=False),
        Column("scan_status", String(16), nullable=False),
        Column("uploader_kind", String(16), nullable=False),
        Column("uploaded_by", String(100), nullable=False),
        Column("agency_code", NODE_CODE, nullable=True),
        Column("uploaded_at", UtcDateTime, nullable=False),
        Column("followup_id", String(64), nullable=True),
        Column("removed_at", UtcDateTime, nullable=True),
        Index("ix_attachments_case", "tracking_id", "uploaded_at"),
    )


def row_values(event: AttachmentAdded) -> dict[str, object]:
    meta = event.attachment
    return {
        "id": meta.id,
        "tracking_id": event.tracking_id,
        "owner": event.owner,
        "bucket": event.bucket,
        "object_name": event.object_name,
        "filename": meta.filename,
        "media_type": meta.media_type,
        "size": meta.size,
        "sha256": meta.sha256,
        "scan_status": meta.scan_status.value,
        "uploader_kind": event.uploader_kind.value,
        "uploaded_by": meta.uploaded_by,
        "agency_code": event.agency_code,
        "uploaded_at": meta.uploaded_at,
    }


def meta_of(row: Row[tuple[object, ...]]) -> AttachmentMeta:
    return AttachmentMeta.model_validate(dict(row._mapping))


def view_of(row: Row[tuple[object, ...]]) -> AttachmentView:
    return AttachmentView.of(meta_of(row), row._mapping["followup_id"], row._mapping["removed_at"])


async def record(session: AsyncSession, table: Table, event: AttachmentAdded) -> None:
    """The file an attachment.added event describes; a repeat changes nothing. An event naming a bucket that is not
    its owner's is refused (to the dead letters): a service may point only at its own files."""
    if event.bucket != bucket_of(Service(event.owner)).name:
        raise ValueError(f"attachment.added from {event.owner} names the bucket {event.bucket!r}, not its own")
    await session.execute(insert_ignore(dialect_of(session), table, ["id"]).values(**row_values(event)))


async def of_case(session: AsyncSession, table: Table, tracking_id: str) -> Sequence[Row[tuple[object, ...]]]:
    """Every file of a case, oldest first, removed ones too (their rows say when)."""
    stmt = select(table).where(table.c.tracking_id == tracking_id).order_by(table.c.uploaded_at, table.c.id)
    return (await session.execute(stmt)).all()


async def one(
    session: AsyncSession, table: Table, tracking_id: str, attachment_id: str
) -> Row[tuple[object, ...]] | None:
    stmt = select(table).where(table.c.tracking_id == tracking_id, table.c.id == attachment_id)
    return (await session.execute(stmt)).first()


async def usage(session: AsyncSession, table: Table, tracking_id: str, uploaded_by: str) -> tuple[int, int]:
    """What counts against the limits: the uploader's files on the case, and the bytes of every file on it."""
    mine = select(func.count()).where(
        table.c.tracking_id == tracking_id, table.c.uploaded_by == uploaded_by, table.c.removed_at.is_(None)
    )
    total = select(func.coalesce(func.sum(table.c.size), 0)).where(
        table.c.tracking_id == tracking_id, table.c.removed_at.is_(None)
    )
    return int((await session.execute(mine)).scalar_one()), int((await session.execute(total)).scalar_one())


async def name_in_followup(
    session: AsyncSession, table: Table, tracking_id: str, ids: Sequence[str], followup_id: str
) -> None:
    await session.execute(
        update(table)
        .where(table.c.tracking_id == tracking_id, table.c.id.in_(list(ids)), table.c.followup_id.is_(None))
        .values(followup_id=followup_id)
    )


async def remove_case(session: AsyncSession, table: Table, tracking_id: str, now: datetime) -> list[str]:
    """Marks a case's files removed (its retention has run out); the ids of those that were not yet."""
    stmt = select(table.c.id).where(table.c.tracking_id == tracking_id, table.c.removed_at.is_(None))
    ids = [str(i) for i in (await session.execute(stmt)).scalars()]
    if ids:
        await session.execute(update(table).where(table.c.id.in_(ids)).values(removed_at=now))
    return ids


async def known_objects(session: AsyncSession, table: Table, names: Sequence[str]) -> set[str]:
    stmt = select(table.c.object_name).where(table.c.object_name.in_(list(names)))
    return {str(n) for n in (await session.execute(stmt)).scalars()}
