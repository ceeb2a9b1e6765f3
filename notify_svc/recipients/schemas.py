"""The recipients API's shapes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from notify_svc.sending.mail import valid_address
from notify_svc.timeutil import UtcDatetime
from shared.calendar import zone
from shared.domain import NodeCode


def _address(value: str) -> str:
    value = value.strip().lower()
    if not valid_address(value):
        raise ValueError("not a valid email address")
    return value


def _timezone(value: str) -> str:
    return zone(value.strip()).key


RecipientRole = Literal["liaison", "coordinator"]
Address = Annotated[str, Field(max_length=254, json_schema_extra={"format": "email"}), AfterValidator(_address)]
TimezoneName = Annotated[
    str,
    Field(max_length=32, description="WIB, WITA or WIT (or Asia/Jakarta, Asia/Makassar, Asia/Jayapura)."),
    AfterValidator(_timezone),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class RecipientCreate(BaseModel):
    """A liaison officer of a node (`node_code`), or a coordinator at one rung of the ladder (`level`, 1 to 4)."""

    model_config = ConfigDict(extra="forbid")

    role: RecipientRole
    node_code: NodeCode | None = Field(default=None, description="The node (liaison only); not checked here.")
    level: int | None = Field(
        default=None, ge=1, le=4, description="The rung (coordinator only): 1 liaison, 2 parent, 3 hub, 4 oversight."
    )
    name: Name | None = None
    email: Address
    timezone: TimezoneName = "Asia/Jakarta"
    language: Literal["id", "en"] = "id"
    is_system: bool = Field(
        default=False, description="A mailbox read by a system (a ticket queue): quiet hours never hold it back."
    )

    @model_validator(mode="after")
    def _scope(self) -> RecipientCreate:
        if self.role == "liaison" and (self.node_code is None or self.level is not None):
            raise ValueError("a liaison officer needs node_code, and no level")
        if self.role == "coordinator" and (self.level is None or self.node_code is not None):
            raise ValueError("a coordinator needs level, and no node_code")
        return self

    def scope(self) -> str:
        return f"node:{self.node_code}" if self.role == "liaison" else f"level:{self.level}"

    def audit_details(self) -> dict[str, Any]:
        """What the audit trail records of it: never the name or the address."""
        return {"role": self.role, "timezone": self.timezone, "language": self.language, "is_system": self.is_system}


class RecipientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    role: RecipientRole
    node_code: str | None
    level: int | None
    name: str | None
    email: str
    timezone: str
    language: str
    is_system: bool
    created_at: UtcDatetime


class RecipientPage(BaseModel):
    items: list[RecipientOut]
    next_offset: int | None = Field(description="The offset of the next page; null on the last page.")
