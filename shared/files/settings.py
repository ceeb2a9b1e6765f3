"""What a service that takes or serves files reads from its environment (SIMPUL_<SERVICE>_...)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from shared.http.limits import DEFAULT_ATTACHMENT_MAX_BYTES
from shared.settings import ServiceSettings, key_ring

MIB = 1024 * 1024

DEFAULT_TYPES = (
    "image/jpeg,image/png,image/webp,application/pdf,text/plain,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
    "application/vnd.openxmlformats-officedocument.presentationml.presentation,"
    "application/vnd.oasis.opendocument.text,"
    "application/vnd.oasis.opendocument.spreadsheet,"
    "application/vnd.oasis.opendocument.presentation"
)


class FileKeySettings(BaseSettings):
    """For intake, agency and routing: the ring that seals each file's own key (the same ring in all three)."""

    files_keys: SecretStr = Field(
        default=SecretStr(""),
        description="Comma-separated Fernet keys that seal each stored file's key; the same ring in intake, agency and"
        " routing. The newest seals; any opens.",
    )

    def files_key_list(self) -> list[str]:
        return key_ring(self.files_keys, "files_keys")


class AttachmentSettings(ServiceSettings, FileKeySettings):
    """For the services that take uploads (intake, agency): what is accepted, and how it is checked."""

    attachment_max_bytes: int = Field(
        default=DEFAULT_ATTACHMENT_MAX_BYTES, ge=1, description="The largest file, in bytes (413 beyond)."
    )
    attachment_max_files: int = Field(
        default=10, ge=1, description="Files one uploader may attach to a case (409 attachment_limit_reached beyond)."
    )
    attachment_max_case_bytes: int = Field(
        default=50 * MIB, ge=1, description="Bytes of files a case may hold in all (409 attachment_limit_reached)."
    )
    attachment_types: str = Field(
        default=DEFAULT_TYPES,
        description="Comma-separated media types accepted, as sniffed from the content (415 otherwise).",
    )
    attachment_max_image_pixels: int = Field(
        default=40_000_000,
        ge=1,
        description="The most pixels an image may decode to (422 beyond: a decompression bomb, or a photo too big).",
    )
    clamd_url: str = Field(
        default="",
        description="The ClamAV daemon: unix:///run/clamav/clamd.ctl or tcp://host:3310. Empty: no scanning, and"
        " files are served marked `unscanned`.",
    )
    clamd_timeout_s: float = Field(default=60.0, gt=0, description="How long one scan may take.")
    scan_required: bool = Field(
        default=False, description="Refuse uploads (503) unless a ClamAV daemon is configured and answers."
    )
    attachment_orphan_grace_s: int = Field(
        default=900,
        ge=1,
        description="An object older than this with no record (a crash between storing and committing) is removed.",
    )

    @field_validator("attachment_types")
    @classmethod
    def _types(cls, value: str) -> str:
        if not media_types(value):
            raise ValueError("name at least one media type")
        return value

    def allowed_types(self) -> frozenset[str]:
        return media_types(self.attachment_types)


def media_types(value: str) -> frozenset[str]:
    return frozenset(t.strip().lower() for t in value.split(",") if t.strip())
