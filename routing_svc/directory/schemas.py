"""The directory's API shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from shared.domain import NodeCode, NodeKind, RegionCode, Timezone
from shared.http.inputs import EmailAddress, JsonBool

_TZ_ALIASES = {"WIB": Timezone.WIB.value, "WITA": Timezone.WITA.value, "WIT": Timezone.WIT.value}


def _timezone_alias(value: Any) -> Any:
    if isinstance(value, str):
        return _TZ_ALIASES.get(value.strip().upper(), value.strip())
    return value


TimezoneIn = Annotated[
    Timezone,
    BeforeValidator(_timezone_alias),
    Field(description="Asia/Jakarta, Asia/Makassar or Asia/Jayapura; WIB, WITA and WIT are accepted as aliases."),
]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9+() .-]{3,32}$")]


INTEGRITY = (
    "The integrity node (e.g. an inspektorat) that takes whistleblowing (WBS) reports about this node and its "
    "subtree; the nearest one up the tree applies. It may not be the node itself."
)


@dataclass(frozen=True)
class NodeQuery:
    """The directory listing's filters, as query parameters."""

    parent_code: NodeCode | None = None
    kind: NodeKind | None = None
    q: Annotated[str | None, Query(max_length=100, description="Part of the code or name.")] = None
    under: Annotated[NodeCode | None, Query(description="Only this node's subtree (itself included).")] = None


class LiaisonOfficer(BaseModel):
    """A liaison officer (pejabat penghubung) of the node: notify_svc sends them the node's escalation notices and
    daily digest by email, in the node's timezone."""

    name: Name
    email: EmailAddress | None = Field(
        default=None, description="Where notify_svc writes to them; without it, nothing."
    )
    phone: Phone | None = None
    language: Literal["id", "en"] = Field(default="id", description="The language of their messages.")


class LiaisonOfficerView(BaseModel):
    """A liaison officer as stored: shown as saved, even if saved under an older rule for names or addresses."""

    name: str
    email: str | None = None
    phone: str | None = None
    language: str = "id"


class NodeCreate(BaseModel):
    code: NodeCode = Field(description="Unique; also a NATS subject token (letters, digits, '-' and '_').")
    name: Name
    kind: NodeKind
    parent_code: NodeCode | None = None
    region_codes: list[RegionCode] = Field(default_factory=list, max_length=1000)
    categories: list[Category] = Field(default_factory=list, max_length=200)
    timezone: TimezoneIn = Timezone.WIB
    is_active: JsonBool = True
    liaison_officers: list[LiaisonOfficer] = Field(default_factory=list, max_length=50)
    integrity_node_code: NodeCode | None = Field(default=None, description=INTEGRITY)


class NodeUpdate(BaseModel):
    """Only the fields sent change. `parent_code: null` makes the node a root; a new parent re-parents its subtree."""

    name: Name | None = None
    kind: NodeKind | None = None
    parent_code: NodeCode | None = None
    region_codes: list[RegionCode] | None = Field(default=None, max_length=1000)
    categories: list[Category] | None = Field(default=None, max_length=200)
    timezone: TimezoneIn | None = None
    is_active: JsonBool | None = None
    liaison_officers: list[LiaisonOfficer] | None = Field(default=None, max_length=50)
    integrity_node_code: NodeCode | None = Field(default=None, description=INTEGRITY + " null removes it.")


class NodeOut(BaseModel):
    code: str
    name: str
    kind: NodeKind
    parent_code: str | None
    region_codes: list[str]
    categories: list[str]
    timezone: Timezone
    is_active: bool
    liaison_officers: list[LiaisonOfficerView]
    integrity_node_code: str | None = Field(description=INTEGRITY)
    path: list[str] = Field(description="The codes from the root to this node, itself included.")
    depth: int = Field(description="0 for a root.")
    created_at: datetime
    updated_at: datetime


class NodeList(BaseModel):
    items: list[NodeOut]
    next_offset: int | None
