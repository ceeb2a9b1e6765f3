"""intake_svc settings: env prefix SIMPUL_INTAKE_."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import EncryptionSettings, ServiceSettings


class IntakeSettings(ServiceSettings, EncryptionSettings):
    service_name: ClassVar[str] = "intake"
    model_config = SettingsConfigDict(env_prefix="SIMPUL_INTAKE_", extra="ignore")

    idempotency_ttl_hours: int = 24
    """How long a submission's Idempotency-Key replays its answer (the sealed receipt included)."""
    batch_max: int = 256
    """The most submissions committed in one transaction (group commit)."""
