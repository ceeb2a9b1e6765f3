"""The category tree's API shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from shared.domain import Classification
from shared.http.inputs import JsonBool

CategoryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"),
    AfterValidator(str.lower),
    Field(description="Letters, digits, '-' and '_' (no dots or spaces), kept in lower case."),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Classifications = Annotated[
    list[Classification],
    Field(max_length=4, description="The classifications it serves; empty (the default) for all."),
]


class CategoryCreate(BaseModel):
    code: CategoryCode
    name: Name = Field(description="In Indonesian.")
    name_en: Name = Field(description="In English.")
    parent_code: CategoryCode | None = Field(default=None, description="Null for a top-level category.")
    classifications: Classifications = Field(default_factory=list)
    description: Description | None = Field(default=None, description="One plain line, in Indonesian.")
    description_en: Description | None = Field(default=None, description="One plain line, in English.")
    is_active: JsonBool = True


class CategoryUpdate(BaseModel):
    """Only the fields sent change. `parent_code: null` makes it top-level; a new parent moves its subtree with it."""

    name: Name | None = None
    name_en: Name | None = None
    parent_code: CategoryCode | None = None
    classifications: Classifications | None = None
    description: Description | None = None
    description_en: Description | None = None
    is_active: JsonBool | None = Field(default=None, description="An inactive category is offered to no one.")


class CategoryOut(BaseModel):
    code: str
    name: str
    name_en: str
    parent_code: str | None
    classifications: list[Classification]
    description: str | None
    description_en: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


class CategoryList(BaseModel):
    items: list[CategoryOut] = Field(description="In tree order: each category before its children, codes ascending.")
    next_offset: int | None


@dataclass(frozen=True)
class CategoryQuery:
    """The hub's category listing filters, as query parameters."""

    classification: Annotated[
        Classification | None, Query(description="Only the categories that serve this classification.")
    ] = None
    active: Annotated[bool | None, Query(description="Only the active (true) or the inactive (false) ones.")] = None
