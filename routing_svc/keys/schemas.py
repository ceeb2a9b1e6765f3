"""API key shapes. The key itself appears once, in the answer that issues it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from shared.domain import Role
from shared.http.inputs import IsoDateTime, JsonInt

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class StaffRole(StrEnum):
    coordinator = "coordinator"
    admin = "admin"
    channel = "channel"


class AgencyKeyCreate(BaseModel):
    label: Label | None = None
    expires_at: IsoDateTime | None = Field(default=None, description="Must lie in the future; naive times are UTC.")


class StaffKeyCreate(AgencyKeyCreate):
    role: StaffRole


class KeyRotate(BaseModel):
    grace_seconds: JsonInt = Field(
        default=0,
        ge=0,
        le=7 * 24 * 3600,
        description="How long the old key keeps working beside the new one (0: it stops at once; at most 7 days).",
    )


class IssuedKeyOut(BaseModel):
    key: str = Field(description="The secret. Shown this once; only its hash is kept.")
    key_id: str
    prefix: str
    role: Role
    agency_code: str | None
    label: str | None
    expires_at: datetime | None


class KeyOut(BaseModel):
    key_id: str
    prefix: str
    role: Role
    agency_code: str | None
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None = Field(description="When the key stops (or stopped) working; may lie ahead.")
    is_active: bool = Field(description="Whether the key works now: neither revoked nor expired.")


class KeyList(BaseModel):
    items: list[KeyOut]
    next_offset: int | None
