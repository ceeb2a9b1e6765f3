"""intake_svc settings: env prefix SIMPUL_INTAKE_."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared.files.settings import AttachmentSettings
from shared.http.client_address import IPNetwork, parse_networks
from shared.http.limits import BodyLimitSettings
from shared.settings import (
    ContactChannelSettings,
    EncryptionSettings,
    IdempotencySettings,
    IdentityChannelSettings,
    PhoneCountrySettings,
    ServiceSettings,
)

LOOPBACK = "127.0.0.1,::1"


class IntakeSettings(
    AttachmentSettings,
    ServiceSettings,
    EncryptionSettings,
    IdentityChannelSettings,
    ContactChannelSettings,
    PhoneCountrySettings,
    BodyLimitSettings,
    IdempotencySettings,
):
    service_name: ClassVar[str] = "intake"
    model_config = SettingsConfigDict(env_prefix="SIMPUL_INTAKE_", extra="ignore")

    batch_max: int = 256
    """The most submissions committed in one transaction (group commit)."""

    known_categories_ttl_s: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="Seconds a process reuses the hub's category codes it read before it reads them again.",
    )

    # Public limits. Each process counts on its own (N replicas admit N times as much): limit at the proxy too.
    rate_limit_enabled: bool = True
    rate_limit_per_minute: int = Field(default=60, ge=0, description="Requests a minute per client; 0 switches off.")
    rate_limit_burst: int = Field(default=30, ge=0, description="Requests a client may make at once; 0 switches off.")
    rate_limit_exempt: str = Field(
        default=LOOPBACK,
        description="Comma-separated clients (addresses or networks) the rate limit never counts: the machine itself"
        " and channel gateways. Their failed receipt checks are not counted either.",
    )
    limits_max_clients: int = Field(
        default=100_000, ge=1, description="Clients (and cases) each limit remembers; the longest idle go first."
    )
    receipt_failures_per_client: int = Field(
        default=10, ge=0, description="Failed receipt checks a client may make per window, then 429; 0 switches off."
    )
    receipt_failure_window_s: int = Field(
        default=900, ge=1, description="The window for failed receipt checks, and how long a lockout lasts."
    )

    # Reporter messages, counted in the database so that they hold across replicas.
    reporter_messages_per_case: int = Field(
        default=50,
        ge=0,
        description="Messages a case takes from its reporter in all, then 422 (accepting or disputing an answer is"
        " still taken); 0 switches off.",
    )
    reporter_messages_per_hour: int = Field(
        default=10, ge=0, description="Messages a case takes from its reporter in any hour, then 429; 0 switches off."
    )

    @field_validator("rate_limit_exempt")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    def rate_limit_exempt_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.rate_limit_exempt)
