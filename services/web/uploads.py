"""Files the citizen sends: each one passed on to the API as it is read, and the API's verdict in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import UploadFile

from services.web.api import ApiDown, ApiProblem, Visitor
from services.web.portal import Portal
from services.web.words import FILE_REFUSALS, FILE_REFUSED


@dataclass(frozen=True)
class FileOutcome:
    filename: str
    refusal: str | None = None
    """Why the API refused it, in plain words; None when it was added."""


async def upload_one(
    portal: Portal, tracking_id: str, receipt: str, upload: UploadFile, visitor: Visitor, key: str | None = None
) -> FileOutcome:
    name = upload.filename or "lampiran"
    if upload.size is not None and upload.size > portal.settings.max_file_bytes:
        # Sent, the API would refuse it with 413 mid-stream and close the connection: httpx reports no answer.
        return FileOutcome(name, FILE_REFUSALS["payload_too_large"])
    try:
        await upload.seek(0)
        await portal.api.upload(
            tracking_id, receipt, name, upload.file, upload.content_type or "application/octet-stream", visitor, key
        )
    except ApiDown:
        return FileOutcome(name, FILE_REFUSED)
    except ApiProblem as problem:
        return FileOutcome(name, FILE_REFUSALS.get(problem.code, FILE_REFUSED))
    return FileOutcome(name)


async def upload_all(
    portal: Portal,
    tracking_id: str,
    receipt: str,
    files: list[UploadFile],
    visitor: Visitor,
    key_prefix: str | None = None,
) -> list[FileOutcome]:
    """One at a time: a case takes its files in the order they were chosen. With `key_prefix`, file n is sent with
    the Idempotency-Key `{key_prefix}:{n}`, so that the same form sent again adds each file once."""
    return [
        await upload_one(portal, tracking_id, receipt, f, visitor, f"{key_prefix}:{n}" if key_prefix else None)
        for n, f in enumerate(files, start=1)
    ]
