"""intake_svc settings: env prefix SIMPUL_INTAKE_."""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator
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
_KEYWORD = re.compile(r"^[^\s=,]{1,40}$")
_CATEGORY = re.compile(r"^[^\s=,]{1,100}$")


def parse_keywords(value: str) -> dict[str, str]:
    """`JALAN=infrastruktur.jalan, SEKOLAH=pendidikan` as {"JALAN": "infrastruktur.jalan", ...} (keywords in upper
    case); ValueError for anything else."""
    found: dict[str, str] = {}
    for item in (i.strip() for i in value.split(",")):
        if not item:
            continue
        keyword, sep, category = (part.strip() for part in item.partition("="))
        if not sep or not _KEYWORD.match(keyword) or not _CATEGORY.match(category):
            raise ValueError(f"not KEYWORD=category.code: {item!r}")
        if keyword.upper() in found:
            raise ValueError(f"the keyword {keyword!r} is named twice")
        found[keyword.upper()] = category
    return found


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
        default=900,
        ge=1,
        description="The window for failed receipt and sender checks, and how long a lockout lasts.",
    )
    sender_failures_per_channel_key: int = Field(
        default=50,
        ge=0,
        description="Failed sender checks (a channel key's message, an SMS reply) a channel key may make per window,"
        " then 429; 0 switches off.",
    )
    sender_failures_per_case: int = Field(
        default=5,
        ge=0,
        description="Failed sender checks against one tracking id per window, from all channel keys, then 429 for"
        " that case's sender path (the receipt still opens it); 0 switches off.",
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

    # SMS gateways: POST /api/v1/channels/sms/inbound (docs/channels.md, "SMS").
    sms_signing_secret: SecretStr | None = Field(
        default=None,
        description="The secret the SMS gateway signs each call with (Simpul-Signature); unset, the endpoint answers"
        " 503 channel_not_configured. `simpul up` makes one in the data folder's secrets.json.",
    )
    sms_signature_tolerance_s: int = Field(
        default=300, ge=1, le=3600, description="How far a signature's timestamp may be from now, in seconds."
    )
    sms_keywords: str = Field(
        default="",
        description="Comma-separated KEYWORD=category.code: an SMS whose first word is a keyword (any case) is filed"
        " under that category, the keyword taken off its text. Without one it goes to triage.",
    )
    sms_complaints_per_number_per_day: int = Field(
        default=5, ge=0, description="New complaints a phone number may send by SMS a day (WIB), then 429; 0: no limit."
    )
    sms_messages_per_number_per_day: int = Field(
        default=20,
        ge=0,
        description="Replies to cases a phone number may send by SMS a day (WIB), refused ones too, then 429; 0: no"
        " limit.",
    )

    @field_validator("sms_signing_secret", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        """An empty secret (a deployment's empty variable) leaves the door closed, never open to an empty key."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("sms_keywords")
    @classmethod
    def _keywords(cls, value: str) -> str:
        parse_keywords(value)
        return value

    def sms_keyword_map(self) -> dict[str, str]:
        return parse_keywords(self.sms_keywords)

    @field_validator("rate_limit_exempt")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    def rate_limit_exempt_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.rate_limit_exempt)
