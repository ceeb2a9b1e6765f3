"""The public reference lists' shapes (the portal and channel adapters code against them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from shared.domain import Classification, NodeCode, NodeKind, RegionCode, Timezone
from shared.reference.regions import RegionKind


class PublicCategory(BaseModel):
    code: str
    name: str = Field(description="In Indonesian.")
    name_en: str
    parent_code: str | None
    classifications: list[Classification] = Field(description="The classifications it serves; empty: all.")
    description: str | None
    description_en: str | None


class PublicCategoryList(BaseModel):
    items: list[PublicCategory] = Field(description="The active categories, each before its children.")


class PublicRegion(BaseModel):
    code: str = Field(description="The Kemendagri code without dots: 2 digits a province, 4 a kabupaten/kota.")
    name: str
    kind: RegionKind
    parent_code: str | None
    timezone: Timezone = Field(description="WIB (Asia/Jakarta), WITA (Asia/Makassar) or WIT (Asia/Jayapura).")


class PublicRegionList(BaseModel):
    items: list[PublicRegion]


class PublicAgency(BaseModel):
    code: str
    name: str
    kind: NodeKind
    parent_code: str | None
    region_codes: list[str]
    categories: list[str]


class PublicAgencyList(BaseModel):
    items: list[PublicAgency] = Field(description="The active nodes of the directory, in tree order.")


@dataclass(frozen=True)
class CategoryFilter:
    classification: Annotated[
        Classification | None, Query(description="Only the categories that serve this classification.")
    ] = None


@dataclass(frozen=True)
class RegionFilter:
    parent_code: Annotated[
        RegionCode | None,
        Query(description="A province's code gives its kabupaten/kota (a kabupaten/kota's, none); 404 if unknown."),
    ] = None


@dataclass(frozen=True)
class AgencyFilter:
    parent_code: Annotated[NodeCode | None, Query(description="Only the active children of this node.")] = None
