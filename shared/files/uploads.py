"""The upload flow the owning services share: limits, the checks, storing the object, then the record and its event in
one transaction. A 201 means both are done; a crash between them leaves an object that the orphan sweep removes."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from shared.bus.nats_bus import Bus
from shared.crypto import Sealer
from shared.domain import ScanStatus, UploaderKind
from shared.errors import ApiError
from shared.events.contracts import AttachmentAdded, AttachmentMeta
from shared.events.topology import BUCKETS, Service, bucket_of
from shared.files import records
from shared.files.checks import Checked, FileChecks
from shared.files.receive import receive_upload
from shared.files.settings import AttachmentSettings, FileKeySettings
from shared.files.store import FileStore
from shared.logging import get_logger
from shared.outbox import Outbox

log = get_logger(__name__)


@dataclass(frozen=True)
class Uploader:
    kind: UploaderKind
    name: str
    """What views show as `uploaded_by`: `reporter`, `operator`, or the node's code."""
    agency_code: str | None = None


def limit_reached(detail: str) -> ApiError:
    return ApiError(409, "attachment_limit_reached", detail)


def reader_stores(bus: Bus, service: Service, settings: FileKeySettings) -> dict[str, FileStore]:
    """A store for every bucket the service reads (its own among them), by bucket name."""
    ring = Sealer(settings.files_key_list())
    return {b.name: FileStore(bus, b, ring) for b in BUCKETS if b.owner is service or service in b.readers}


class Uploads:
    """One owning service's uploads: into its own bucket, recorded in its attachments table."""

    def __init__(self, settings: AttachmentSettings, bus: Bus, service: Service, table: Table, outbox: Outbox):
        self.settings = settings
        self.service = service
        self.table = table
        self.outbox = outbox
        self.bucket = bucket_of(service)
        self.stores = reader_stores(bus, service, settings)
        self.own = self.stores[self.bucket.name]
        self.checks = FileChecks(settings)
        self.directory = upload_directory(settings.data_dir / "uploads")

    async def check_room(self, session: AsyncSession, tracking_id: str, uploader: Uploader, size: int = 0) -> None:
        """409 when the uploader has attached its most files to the case, or the case would hold too many bytes."""
        files, case_bytes = await records.usage(session, self.table, tracking_id, uploader.name)
        most_files, most_bytes = self.settings.attachment_max_files, self.settings.attachment_max_case_bytes
        if files >= most_files:
            raise limit_reached(
                f"sudah {files} berkas dari pengunggah ini pada kasus ini, batasnya {most_files}; this uploader has"
                f" attached {files} files to this case, the limit is {most_files}"
            )
        if case_bytes + max(size, 1) > most_bytes:
            raise limit_reached(
                f"kasus ini sudah menyimpan {case_bytes} bita berkas, batasnya {most_bytes}; this case already holds"
                f" {case_bytes} bytes of files, the limit is {most_bytes}"
            )

    async def receive(self, request: Request) -> Checked:
        """The request's file, received and checked, in a temporary file the caller hands to `store` or `discard`."""
        refusal = self.checks.scanner_refusal()
        if refusal is not None:
            raise refusal
        received = await receive_upload(request, self.directory, self.settings.attachment_max_bytes)
        try:
            checked = await self.checks.check(received)
        except BaseException:
            received.discard()
            raise
        if checked.path != received.path:
            received.discard()
        return checked

    async def store(
        self,
        session: AsyncSession,
        checked: Checked,
        *,
        tracking_id: str,
        uploader: Uploader,
        now: datetime,
        lock_case: Callable[[], Awaitable[None]],
    ) -> AttachmentMeta:
        """Store the object (unless infected), then record it and its event in the session; the caller commits,
        and calls `forget` if the commit fails. Checks the limits before storing and again under the case's lock."""
        attachment_id = str(uuid.uuid4())
        meta = AttachmentMeta(
            id=attachment_id,
            filename=checked.filename,
            media_type=checked.media_type,
            size=checked.size,
            sha256=checked.sha256,
            scan_status=checked.scan_status,
            uploaded_by=uploader.name,
            uploaded_at=now,
        )
        await self.check_room(session, tracking_id, uploader, checked.size)
        stored = checked.scan_status is not ScanStatus.infected
        if stored:
            await self.own.put(attachment_id, checked.path)
        else:
            log.warning("attachment_infected", attachment_id=attachment_id, signature=checked.signature)
        try:
            # Again under the case's lock, which the object's upload was not worth holding it for.
            await lock_case()
            await self.check_room(session, tracking_id, uploader, checked.size)
        except BaseException:
            if stored:
                await self.forget(meta)
            raise
        event = AttachmentAdded(
            tracking_id=tracking_id,
            owner=self.service.value,
            uploader_kind=uploader.kind,
            agency_code=uploader.agency_code,
            bucket=self.bucket.name,
            object_name=attachment_id,
            attachment=meta,
        )
        await session.execute(insert(self.table).values(**records.row_values(event)))
        await self.outbox.add(session, event)
        return meta

    async def forget(self, meta: AttachmentMeta) -> None:
        """Remove an object whose record was not committed (the sweep would, later)."""
        with contextlib.suppress(Exception):
            await self.own.delete(meta.id)


def discard(checked: Checked) -> None:
    checked.path.unlink(missing_ok=True)


_CLAIMED: set[Path] = set()
"""The upload folders this process made (one per data folder)."""


def upload_directory(base: Path) -> Path:
    """This process's own folder for uploads in flight (under the service's data folder); the folders of processes
    that are gone, with what a crash left in them, are removed."""
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    for leftover in base.iterdir():
        if leftover.name.isdigit() and not _alive(int(leftover.name)):
            shutil.rmtree(leftover, ignore_errors=True)
    mine = base / str(os.getpid())
    if mine.resolve() not in _CLAIMED:
        # Already there before this process made it: an earlier process had the same pid (a container's service runs
        # as pid 1 again after a restart, on the same file system), and what it holds is what that one left.
        shutil.rmtree(mine, ignore_errors=True)
        _CLAIMED.add(mine.resolve())
    mine.mkdir(mode=0o700, exist_ok=True)
    return mine


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
