"""The email door's settings: env prefix SIMPUL_EMAIL_."""

from __future__ import annotations

from email.utils import getaddresses
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class EmailDoorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIMPUL_EMAIL_", extra="ignore")

    api_url: str = Field(default="http://127.0.0.1:8000", description="The hub's base URL (its public API).")
    api_key: SecretStr = Field(description='A channel key (POST /api/v1/hub/api-keys {"role": "channel"}).')
    api_timeout: float = Field(default=30.0, gt=0)

    host: str = Field(default="127.0.0.1", description="Where /healthz and /metrics answer.")
    port: int = Field(default=8025, ge=0, le=65535)

    smtp_mode: Literal["smtp", "lmtp", "off"] = Field(
        default="smtp", description="smtp: the hub's MX (or a relay) delivers here; lmtp: an MTA's LMTP transport."
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=2525, ge=0, le=65535)
    smtp_hostname: str = Field(default="simpul.localhost", description="The name the door greets with.")
    addresses: str = Field(
        default="",
        description="The hub's intake addresses, comma-separated (e.g. lapor@hub.example): SMTP/LMTP takes mail only "
        "for them and for their case reply addresses (lapor+<tracking_id>.<token>@hub.example); any other "
        "recipient is answered 550 5.1.1. Required with SMTP/LMTP.",
    )
    max_message_bytes: int = Field(
        default=25 * MIB, ge=1024, description="Larger mail is refused: SMTP 552, or left in the IMAP mailbox."
    )

    reply_secret: SecretStr | None = Field(
        default=None, description="notify's SIMPUL_NOTIFY_REPLY_SECRET: the per-case reply addresses' tokens."
    )
    key_secret: SecretStr | None = Field(
        default=None,
        description="What the door's Idempotency-Keys are made with (an HMAC of the Message-ID): without it nobody "
        "holding a copy of a mail can rebuild its key and replay the submission for its receipt. Unset: "
        "reply_secret; one of the two is required.",
    )
    hub_addresses: str = Field(
        default="no-reply@simpul.localhost",
        description="The hub's own addresses (notify's From, the reply address), comma-separated: mail from them, "
        "or carrying X-Loop or a Message-ID of their domains, is the hub's own and is ignored.",
    )

    imap_host: str | None = Field(default=None, description="A mailbox to poll; unset: no IMAP.")
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_tls: bool = Field(default=True, description="IMAP over TLS (993); false only for a server on loopback.")
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_mailbox: str = "INBOX"
    imap_done_mailbox: str | None = Field(
        default=None, description="Where handled mail is moved; unset: it is marked \\Seen and stays."
    )
    imap_poll_seconds: float = Field(default=60.0, gt=0)
    imap_timeout: float = Field(default=30.0, gt=0)

    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _imap_needs_login(self) -> EmailDoorSettings:
        if self.imap_host and not (self.imap_username and self.imap_password):
            raise ValueError("imap_host needs imap_username and imap_password")
        if self.smtp_mode == "off" and not self.imap_host:
            raise ValueError("the door needs SMTP/LMTP (smtp_mode) or IMAP (imap_host), or both")
        if self.smtp_mode != "off" and not self.intake_addresses():
            raise ValueError("SMTP/LMTP needs addresses (SIMPUL_EMAIL_ADDRESSES), the hub's intake addresses")
        if not self.idempotency_secret():
            raise ValueError("the door needs key_secret (SIMPUL_EMAIL_KEY_SECRET) or reply_secret for its keys")
        return self

    def idempotency_secret(self) -> str:
        """key_secret, else reply_secret: what the door's Idempotency-Keys are keyed with."""
        chosen = self.key_secret or self.reply_secret
        return chosen.get_secret_value() if chosen else ""

    def intake_addresses(self) -> frozenset[str]:
        return frozenset(a.lower() for _, a in getaddresses([self.addresses]) if "@" in a)

    def own_addresses(self) -> frozenset[str]:
        return frozenset(a.lower() for _, a in getaddresses([self.hub_addresses]) if "@" in a)

    def own_domains(self) -> frozenset[str]:
        return frozenset(a.rpartition("@")[2] for a in self.own_addresses())
