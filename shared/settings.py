"""Settings shared by every service; each service subclasses with its own env prefix (SIMPUL_<SERVICE>_)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.auth.keys import check_bootstrap_key
from shared.http.client_address import IPNetwork, parse_networks
from shared.phones import country_codes


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIMPUL_", extra="ignore")

    service_name: ClassVar[str] = "simpul"

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("var")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL. Default: SQLite at <data_dir>/<service>.db.",
    )
    database_schema: str | None = Field(default=None, description="PostgreSQL schema that holds this service.")
    sqlite_synchronous: str = "FULL"

    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    stream_replicas: int = 1
    stream_max_age_days: int = 30
    consumer_batch: int = 64
    max_deliver: int = 5
    relay_poll_interval: float = 0.5
    relay_batch: int = Field(default=500, ge=1, description="The most outbox events the relay publishes in one round.")

    trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        description="Comma-separated proxies (addresses or networks) whose X-Forwarded-For names the client.",
    )
    auth_failures_per_client: int = Field(
        default=20, ge=0, description="Failed API keys a client may present per window, then 429; 0 switches off."
    )
    auth_failure_window_s: int = Field(
        default=300, ge=1, description="The window for failed API keys, and how long a lockout lasts."
    )

    log_level: str = "INFO"
    log_json: bool = True

    bootstrap_admin_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SIMPUL_BOOTSTRAP_ADMIN_KEY", "bootstrap_admin_key"),
        description="The first admin key, 32 characters or more; revoke it: DELETE /api/v1/hub/api-keys/bootstrap.",
    )
    bootstrap_admin_key_hash: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SIMPUL_BOOTSTRAP_ADMIN_KEY_HASH", "bootstrap_admin_key_hash"),
        description="SHA-256 of the first admin key, for when the key itself must not be kept (simpul up).",
    )

    clock: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SIMPUL_CLOCK", "clock"),
        description="Test configuration only: 'package.module:factory' of a movable clock (see shared.clock).",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        parse_networks(value)
        return value

    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)

    @field_validator("bootstrap_admin_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            check_bootstrap_key(value.get_secret_value())
        return value

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        path = (self.data_dir / f"{self.service_name}.db").resolve()
        return f"sqlite+aiosqlite:///{path}"


MAKE_KEY_HINT = "make one with: python -c 'from shared.crypto import generate_fernet_key as g; print(g())'"


def key_ring(value: SecretStr, setting: str) -> list[str]:
    """A comma-separated list of Fernet keys, newest first; an empty one is a configuration error that says so."""
    keys = [k.strip() for k in value.get_secret_value().split(",") if k.strip()]
    if not keys:
        raise ValueError(f"no keys configured: set SIMPUL_<SERVICE>_{setting.upper()} ({MAKE_KEY_HINT})")
    return keys


class EncryptionSettings(BaseSettings):
    """For services that hold personal data at rest: their own Fernet keys, newest first, comma-separated."""

    encryption_keys: SecretStr = Field(
        default=SecretStr(""),
        description="Comma-separated Fernet keys, newest first. The newest encrypts; any decrypts.",
    )

    def encryption_key_list(self) -> list[str]:
        return key_ring(self.encryption_keys, "encryption_keys")


class IdempotencySettings(BaseSettings):
    """For services whose POSTs take an Idempotency-Key (shared.http.idempotency): how long a key replays."""

    idempotency_ttl_hours: int = Field(
        default=24, ge=1, le=24 * 30, description="How long an Idempotency-Key replays its answer; then it is purged."
    )


class IdentityChannelSettings(BaseSettings):
    """For intake, routing and agency, which see a named reporter's name: the ring it crosses the broker in."""

    identity_keys: SecretStr = Field(
        default=SecretStr(""),
        description="Comma-separated Fernet keys that seal the reporter's name in events; the same ring in intake, "
        "routing and agency. The newest encrypts; any decrypts.",
    )

    def identity_key_list(self) -> list[str]:
        return key_ring(self.identity_keys, "identity_keys")


class ContactChannelSettings(BaseSettings):
    """For intake and notify: the ring that seals contact details on their way to notify_svc."""

    contact_keys: SecretStr = Field(
        default=SecretStr(""),
        description="Comma-separated Fernet keys that seal contact details in contact.registered; the same ring in "
        "intake and notify. The newest encrypts; any decrypts.",
    )

    def contact_key_list(self) -> list[str]:
        return key_ring(self.contact_keys, "contact_keys")


class PhoneCountrySettings(BaseSettings):
    """For intake (which accepts a reporter's phone) and notify (which texts it): the countries besides Indonesia."""

    phone_countries: str = Field(
        default="",
        description="Comma-separated calling codes (e.g. '60,65') whose phone numbers are accepted and texted besides"
        " Indonesian mobiles (+62 8...). Empty: Indonesian mobiles only.",
    )

    @field_validator("phone_countries")
    @classmethod
    def _phone_countries(cls, value: str) -> str:
        country_codes(value)
        return value

    def phone_country_codes(self) -> tuple[str, ...]:
        return country_codes(self.phone_countries)
