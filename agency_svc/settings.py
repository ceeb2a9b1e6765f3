"""agency_svc settings: env prefix SIMPUL_AGENCY_."""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.files.settings import AttachmentSettings
from shared.http.client_address import IPNetwork, parse_networks
from shared.http.limits import BodyLimitSettings
from shared.settings import EncryptionSettings, IdempotencySettings, IdentityChannelSettings, ServiceSettings


class AgencySettings(
    AttachmentSettings,
    ServiceSettings,
    EncryptionSettings,
    IdentityChannelSettings,
    BodyLimitSettings,
    IdempotencySettings,
):
    service_name: ClassVar[str] = "agency"
    model_config = SettingsConfigDict(env_prefix="SIMPUL_AGENCY_", extra="ignore")

    webhook_retry_base_seconds: float = Field(
        default=10.0, gt=0, description="A failed delivery's first retry comes within this long; doubled each attempt."
    )
    webhook_retry_max_seconds: float = Field(
        default=3600.0, gt=0, description="The longest wait between two attempts of a delivery (before jitter)."
    )
    webhook_max_age_seconds: float = Field(
        default=86400.0,
        gt=0,
        description="A delivery is retried until an attempt fails this long after it was made (or redelivered by "
        "hand); then it is failed. 24 hours by default.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long one attempt may take in all before it counts as failed."
    )
    webhook_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a sender holds a delivery it picked before another may try it (a sender that died "
        "mid-attempt). Keep it well above webhook_timeout_seconds.",
    )
    webhook_poll_interval: float = Field(default=1.0, gt=0, description="How often the sender looks for due retries.")
    webhook_batch: int = Field(default=20, ge=1, le=200, description="Deliveries sent at once, concurrently.")
    webhook_in_flight_per_endpoint: int = Field(
        default=2,
        ge=1,
        description="Deliveries to one endpoint sent at once: an endpoint that hangs holds no more senders than this.",
    )
    webhook_in_flight_per_node: int = Field(
        default=4,
        ge=1,
        description="Deliveries to one node's endpoints sent at once, all its endpoints together: a node whose "
        "endpoints hang holds no more of webhook_batch than this.",
    )
    webhook_redeliveries_per_minute: int = Field(
        default=10,
        ge=0,
        description="Manual redeliveries a node may ask for one endpoint per minute (in bursts as large); 0: no limit.",
    )
    webhook_endpoints_per_node: int = Field(default=10, ge=1, description="How many endpoints one node may register.")
    webhook_retention_days: float = Field(
        default=30.0, gt=0, description="Delivered and failed deliveries are kept in the log this long."
    )
    webhook_allowed_networks: str = Field(
        default="",
        description="Comma-separated networks a webhook may reach although they are internal (loopback, private, "
        "link-local, ...), e.g. '10.20.0.0/16, 127.0.0.0/8'. Empty by default: every non-global address is refused.",
    )

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    def webhook_allowed_network_list(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.webhook_allowed_networks)

    @model_validator(mode="after")
    def _lease_outlasts_an_attempt(self) -> Self:
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise ValueError("webhook_lease_seconds must be longer than webhook_timeout_seconds")
        return self
