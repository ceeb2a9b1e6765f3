"""The shape every case view and upload answer gives a file."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, Field

from shared.domain import ScanStatus
from shared.events.contracts import AttachmentMeta


class AttachmentView(BaseModel):
    id: str = Field(description="The file's id: the last part of its download path.")
    filename: str = Field(description="A safe name, with the extension of the type sniffed from the content.")
    media_type: str = Field(description="The type sniffed from the content (never the one declared).")
    size: int = Field(description="Bytes, as stored (an image after re-encoding).")
    sha256: str = Field(description="SHA-256 of the bytes served, in hex.")
    scan_status: ScanStatus = Field(
        description="clean: scanned, nothing found; infected: never served; unscanned: no scanner is configured."
    )
    uploaded_by: str = Field(description="`reporter`, `operator`, or the uploading node's code.")
    uploaded_at: datetime
    followup_id: str | None = Field(default=None, description="The follow-up that names it (an agency's file).")
    removed_at: datetime | None = Field(
        default=None, description="When the case's retention ran out and the content was removed."
    )

    @classmethod
    def of(cls, meta: AttachmentMeta, followup_id: str | None = None, removed_at: datetime | None = None) -> Self:
        return cls(**meta.model_dump(), followup_id=followup_id, removed_at=removed_at)


UPLOAD_BODY: dict[str, object] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary", "description": "One file."}},
                }
            }
        },
    }
}
"""The OpenAPI request body of an upload: read as a stream, not by a model, so it is declared by hand."""

DOWNLOAD_ANSWER: dict[int | str, dict[str, object]] = {
    200: {
        "description": "The file, as a download (`Content-Disposition: attachment`), of its stored type.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
