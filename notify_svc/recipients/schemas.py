"""The recipients API's shapes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.calendar import ZONE_PATTERN, zone
from shared.http.inputs import EmailAddress, JsonBool, JsonInt
from shared.http.outputs import UtcDatetime


def _timezone(value: str) -> str:
    return zone(value.strip()).key


RecipientRole = Literal["liaison", "coordinator"]
Address = Annotated[EmailAddress, AfterValidator(str.lower)]
TimezoneName = Annotated[
    str,
    Field(
        max_length=32,
        description="WIB, WITA or WIT (or Asia/Jakarta, Asia/Makassar, Asia/Jayapura).",
        json_schema_extra={"pattern": ZONE_PATTERN},
    ),
    AfterValidator(_timezone),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


DIRECTORY_OWNS_LIAISONS = (
    "liaison officers are the directory's: set a node's liaison_officers with PATCH /api/v1/hub/agencies/{code}, "
    "and notify_svc takes them from there"
)


class RecipientCreate(BaseModel):
    """A coordinator at one rung of the ladder (`level`, 1 to 4). Liaison officers come from the directory."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["coordinator"] = "coordinator"
    level: JsonInt = Field(ge=1, le=4, description="The rung: 1 liaison, 2 parent, 3 hub, 4 oversight.")
    name: Name | None = None
    email: Address
    timezone: TimezoneName = "Asia/Jakarta"
    language: Literal["id", "en"] = "id"
    is_system: JsonBool = Field(
        default=False, description="A mailbox read by a system (a ticket queue): quiet hours never hold it back."
    )

    @model_validator(mode="before")
    @classmethod
    def _not_a_liaison(cls, data: Any) -> Any:
        if isinstance(data, dict) and (data.get("role") == "liaison" or "node_code" in data):
            raise ValueError(DIRECTORY_OWNS_LIAISONS)
        return data

    def scope(self) -> str:
        return f"level:{self.level}"

    def audit_details(self) -> dict[str, Any]:
        """What the audit trail records of it: never the name or the address."""
        return {
            "role": self.role,
            "scope": self.scope(),
            "timezone": self.timezone,
            "language": self.language,
            "is_system": self.is_system,
        }


class RecipientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    role: RecipientRole = Field(description="liaison: a node's officer, from the directory; coordinator: added here.")
    node_code: str | None = Field(description="The liaison officer's node.")
    level: int | None = Field(description="The coordinator's rung.")
    name: str | None
    email: str
    timezone: str
    language: str
    is_system: bool
    created_at: UtcDatetime


class RecipientPage(BaseModel):
    items: list[RecipientOut]
    next_offset: int | None = Field(description="The offset of the next page; null on the last page.")
