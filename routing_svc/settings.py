"""routing_svc settings: env prefix SIMPUL_ROUTING_."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field
from pydantic_settings import NoDecode, SettingsConfigDict

from shared.domain import Timezone
from shared.files.settings import FileKeySettings
from shared.settings import EncryptionSettings, IdempotencySettings, IdentityChannelSettings, ServiceSettings


def _date_list(value: Any) -> Any:
    """Dates as a JSON list or as a comma-separated string ("2026-12-24,2026-12-31")."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


DateList = Annotated[list[date], NoDecode, BeforeValidator(_date_list)]
OptionalPath = Annotated[Path | None, BeforeValidator(lambda v: None if isinstance(v, str) and not v.strip() else v)]


class RoutingSettings(
    ServiceSettings, EncryptionSettings, IdentityChannelSettings, IdempotencySettings, FileKeySettings
):
    service_name: ClassVar[str] = "routing"
    model_config = SettingsConfigDict(env_prefix="SIMPUL_ROUTING_", extra="ignore")

    max_forwards: int = 3
    """How many forwards (bukan wewenang) a case may take; the next one sends it to the coordinators' triage."""

    hub_timezone: Timezone = Field(
        default=Timezone.WIB, description="The timezone of the hub's own clocks (verification) and of statistics."
    )
    extra_holidays: DateList = Field(
        default_factory=list, description="Dates that are not working days besides the national holidays."
    )
    extra_working_days: DateList = Field(
        default_factory=list, description="Dates that are working days although the calendar says otherwise."
    )
    escalation_interval_days: int = Field(
        default=5, ge=1, le=60, description="Working days between two rungs of the escalation ladder."
    )
    oversight_days: int = Field(
        default=60, ge=1, le=365, description="Working days after a resolution clock starts when oversight is flagged."
    )
    archive_after_days: int = Field(
        default=365, ge=0, le=36500, description="Calendar days a completed case is kept before it is archived."
    )
    sla_sweep_interval: float = Field(default=1.0, gt=0, description="Seconds between two looks for due clocks.")
    default_categories: OptionalPath = Field(
        default=Path(__file__).with_name("categories") / "default_tree.json",
        description="The category tree loaded at start into an empty category table (a JSON list, each category after"
        " its parent, as POST /api/v1/hub/categories takes them); empty: none.",
    )
    sla_sweep_batch: int = Field(default=200, ge=1, le=10000, description="Cases handled per sweep transaction.")
