"""SLA policy shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from shared.domain import Classification, ClockKind, NodeCode
from shared.http.inputs import JSON_INTEGER, JsonBool

WorkingDays = Annotated[int, Field(ge=1, le=400, description="The clock's budget in working days."), JSON_INTEGER]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class PolicyCreate(BaseModel):
    """A deadline for one clock, for the cases its matchers fit; a matcher left out fits every case."""

    kind: ClockKind
    working_days: WorkingDays
    classification: Classification | None = None
    category: Category | None = None
    agency_code: NodeCode | None = Field(default=None, description="Fits this node and its whole subtree.")
    berkadar_pengawasan: JsonBool = Field(
        default=False,
        description="True: for pengaduan flagged berkadar pengawasan (resolution clocks only); false: the others.",
    )


class PolicyUpdate(BaseModel):
    working_days: WorkingDays


class PolicyOut(BaseModel):
    id: int
    kind: ClockKind
    working_days: int
    classification: Classification | None
    category: str | None
    agency_code: str | None
    berkadar_pengawasan: bool
    created_at: datetime
    updated_at: datetime


class DefaultDeadline(BaseModel):
    kind: ClockKind
    classification: Classification | None = Field(description="null: every classification.")
    berkadar_pengawasan: bool
    working_days: int


class PolicyList(BaseModel):
    items: list[PolicyOut]
    next_offset: int | None
    defaults: list[DefaultDeadline] = Field(description="What applies where no policy fits.")


class EffectiveDeadline(BaseModel):
    kind: ClockKind
    working_days: int
    policy_id: int | None = Field(description="The policy that applies; null when it is the default.")
