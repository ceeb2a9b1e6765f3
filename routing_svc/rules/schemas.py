"""Routing rule shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator

from routing_svc.rules.matcher import normalize
from shared.domain import Classification, NodeCode, RegionCode
from shared.http.inputs import JsonInt

Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class RuleCreate(BaseModel):
    agency_code: NodeCode = Field(description="The node the rule routes to.")
    classification: Classification | None = None
    category: Category | None = Field(default=None, description="Compared case-insensitively.")
    region_code: RegionCode | None = Field(default=None, description="Matches itself and every code under it.")
    keywords: list[Keyword] = Field(
        default_factory=list, max_length=50, description="The rule matches if ANY occurs as a whole word or phrase."
    )
    priority: JsonInt = Field(default=0, ge=-1000, le=1000, description="Higher wins before specificity is compared.")

    @field_validator("keywords")
    @classmethod
    def _normalized(cls, value: list[str]) -> list[str]:
        out = [normalize(k) for k in value]
        if any(not k for k in out):
            raise ValueError("a keyword must contain at least one letter or digit")
        return list(dict.fromkeys(out))


class RuleOut(BaseModel):
    id: int
    agency_code: str
    classification: Classification | None
    category: str | None
    region_code: str | None
    keywords: list[str] = Field(description="Normalized: lower case, words separated by single spaces.")
    priority: int
    specificity: float = Field(description="4 (keywords) + 2 (category) + 1 (classification) + len(region)/10.")
    created_at: datetime


class RuleList(BaseModel):
    items: list[RuleOut]
    next_offset: int | None
