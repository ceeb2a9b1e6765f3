"""agency_svc settings: env prefix SIMPUL_AGENCY_."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class AgencySettings(ServiceSettings):
    service_name: ClassVar[str] = "agency"
    model_config = SettingsConfigDict(env_prefix="SIMPUL_AGENCY_", extra="ignore")
