"""A file as an HTTP answer: streamed as it opens, as a download (never shown inline), of the type it was stored as."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from urllib.parse import quote

from sqlalchemy import Row
from starlette.responses import StreamingResponse

from shared.domain import ScanStatus
from shared.errors import ApiError
from shared.files.sealed import FileDamaged
from shared.files.store import FileMissing, FileStore
from shared.logging import get_logger

log = get_logger(__name__)


def not_found() -> ApiError:
    return ApiError(404, "not_found", "lampiran tidak ditemukan; attachment not found")


def content_disposition(filename: str) -> str:
    """`attachment`, with an ASCII fallback name and the UTF-8 name (RFC 6266, RFC 8187)."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;%' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def download(
    row: Row[tuple[object, ...]], stores: Mapping[str, FileStore], *, serve_unscanned: bool
) -> StreamingResponse:
    """The file of a row the caller may see: 409 for an infected one (and for an unscanned one where scanning is
    required), 410 once its retention removed it."""
    values = row._mapping
    if values["scan_status"] == ScanStatus.unscanned.value and not serve_unscanned:
        raise ApiError(
            409,
            "attachment_not_scanned",
            "berkas ini diunggah sebelum pemindaian virus diwajibkan dan belum dipindai; this file was stored before"
            " scanning was required and has not been scanned, so it is not served",
        )
    if values["scan_status"] == ScanStatus.infected.value:
        raise ApiError(
            409,
            "attachment_infected",
            "berkas ini mengandung virus dan tidak akan diberikan; this file was found infected and is never served",
        )
    if values["removed_at"] is not None:
        raise ApiError(410, "attachment_removed", "berkas ini sudah dihapus (masa simpan habis); this file was removed")
    store = stores.get(str(values["bucket"]))
    if store is None:
        raise not_found()
    try:
        chunks = await store.open(str(values["object_name"]))
        first = await anext(chunks, b"")
    except FileMissing as exc:
        log.error("attachment_object_missing", attachment_id=values["id"])
        raise not_found() from exc
    except FileDamaged as exc:
        log.error("attachment_damaged", attachment_id=values["id"], error=str(exc))
        raise ApiError(500, "attachment_damaged", "this file cannot be opened; the operators have been told") from exc

    async def body() -> AsyncIterator[bytes]:
        yield first
        try:
            async for chunk in chunks:
                yield chunk
        except FileDamaged as exc:
            log.error("attachment_damaged", attachment_id=values["id"], error=str(exc))
            raise

    media_type = str(values["media_type"])
    return StreamingResponse(
        body(),
        media_type=media_type + ("; charset=utf-8" if media_type == "text/plain" else ""),
        headers={
            "Content-Disposition": content_disposition(str(values["filename"])),
            "Content-Length": str(values["size"]),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
