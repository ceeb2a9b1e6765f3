"""What an upload goes through before it is stored: its type sniffed against the allowed list, an image re-encoded
without its metadata, and a scan when a ClamAV daemon is configured."""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from shared.domain import ScanStatus
from shared.errors import ApiError
from shared.files.clamd import Clamd, ScannerUnavailable
from shared.files.images import is_image, reencode
from shared.files.receive import Received
from shared.files.settings import AttachmentSettings
from shared.files.sniff import EXTENSIONS, TEXT, sniff
from shared.logging import get_logger

log = get_logger(__name__)

DEFAULT_STEM = "lampiran"


@dataclass
class Checked:
    """A file ready to store (unless infected: then only its record is kept), in a temporary file."""

    path: Path
    filename: str
    media_type: str
    size: int
    sha256: str
    scan_status: ScanStatus
    signature: str | None = None


class FileChecks:
    """The checks of one service, with its settings; images are re-encoded one at a time to bound memory."""

    def __init__(self, settings: AttachmentSettings, *, image_workers: int = 1):
        self.settings = settings
        self.allowed = settings.allowed_types()
        self.scanner = Clamd(settings.clamd_url, timeout=settings.clamd_timeout_s) if settings.clamd_url else None
        self._images = asyncio.Semaphore(image_workers)

    def scanner_refusal(self) -> ApiError | None:
        """503 before anything is read, when scanning is required and no scanner is configured."""
        if self.settings.scan_required and self.scanner is None:
            return scanner_unavailable("no ClamAV daemon is configured (SIMPUL_*_CLAMD_URL)")
        return None

    async def check(self, received: Received) -> Checked:
        """The file as it will be stored; 415 for a type not allowed, 422 for an image that will not do, 503 when the
        scanner is needed and not answering. The caller discards `received` and the answer's file."""
        media_type = sniff(received.head)
        if media_type == TEXT and not received.is_text:
            media_type = None
        if media_type is None or media_type not in self.allowed:
            raise unsupported(media_type, self.allowed)
        path, size, sha256 = received.path, received.size, received.sha256
        if is_image(media_type):
            path = Path(tempfile.mkstemp(dir=received.path.parent, prefix="clean-")[1])
            try:
                async with self._images:
                    await run_in_threadpool(
                        reencode, received.path, path, media_type, self.settings.attachment_max_image_pixels
                    )
                size, sha256 = await run_in_threadpool(_measure, path)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        checked = Checked(
            path, safe_filename(received.filename, media_type), media_type, size, sha256, ScanStatus.unscanned
        )
        if self.scanner is not None:
            try:
                result = await self.scanner.scan_file(path)
            except ScannerUnavailable as exc:
                if path != received.path:
                    path.unlink(missing_ok=True)
                log.warning("scanner_unavailable", error=str(exc))
                raise scanner_unavailable("the ClamAV daemon did not answer") from exc
            checked.scan_status = ScanStatus.infected if result.infected else ScanStatus.clean
            checked.signature = result.signature
        return checked


def _measure(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def safe_filename(given: str | None, media_type: str) -> str:
    """The client's name (already without a path) with the extension of the sniffed type, never its own."""
    extension = EXTENSIONS.get(media_type, "")
    stem = (given or "").rsplit(".", 1)[0].strip(" .") if given and "." in given else (given or "")
    return f"{stem or DEFAULT_STEM}{extension}"


def unsupported(media_type: str | None, allowed: frozenset[str]) -> ApiError:
    seen = media_type or "unknown"
    return ApiError(
        415,
        "unsupported_media_type",
        f"jenis berkas ini ({seen}) tidak diterima; this type of file ({seen}) is not accepted. Accepted:"
        f" {', '.join(sorted(allowed))}",
    )


def scanner_unavailable(why: str) -> ApiError:
    return ApiError(
        503,
        "scanner_unavailable",
        f"pemindai virus tidak tersedia, coba lagi nanti; the virus scanner is unavailable ({why}), retry shortly",
    )
