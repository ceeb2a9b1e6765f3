"""notify_svc settings: env prefix SIMPUL_NOTIFY_."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from notify_svc.quiet_hours import QuietHours
from shared.calendar import zone
from shared.http.inputs import is_email_address
from shared.reply_address import reply_address
from shared.settings import (
    ContactChannelSettings,
    EncryptionSettings,
    IdempotencySettings,
    PhoneCountrySettings,
    ServiceSettings,
)


class NotifySettings(
    ServiceSettings, EncryptionSettings, ContactChannelSettings, PhoneCountrySettings, IdempotencySettings
):
    service_name: ClassVar[str] = "notify"
    model_config = SettingsConfigDict(env_prefix="SIMPUL_NOTIFY_", extra="ignore")

    smtp_host: str | None = Field(default=None, description="SMTP relay; unset: write .eml files to mail_dir.")
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(
        default=False,
        description="Require STARTTLS. When false, STARTTLS is still used whenever the server offers it.",
    )
    smtp_tls_verify: bool = Field(
        default=True,
        description="Verify the SMTP server's certificate and name; false only for a test server's self-signed one.",
    )
    smtp_tls_ca_file: Path | None = Field(
        default=None, description="PEM file of the CAs that the SMTP server's certificate is checked against."
    )
    smtp_timeout: float = 30.0
    mail_from: str = "Simpul <no-reply@simpul.localhost>"
    mail_dir: Path | None = Field(
        default=None, description="Where .eml files go without SMTP. Default <data_dir>/mail."
    )

    sms_gateway_url: str | None = Field(
        default=None, description="The SMS gateway's HTTP endpoint (generic JSON POST); unset: write files to sms_dir."
    )
    sms_gateway_auth_header: SecretStr | None = Field(
        default=None, description="One header sent with every request, as 'Name: value' (e.g. 'Authorization: ...')."
    )
    sms_field_to: str = Field(default="to", description="The JSON field that holds the number (E.164, +62...).")
    sms_field_text: str = Field(default="text", description="The JSON field that holds the message text.")
    sms_field_reference: str | None = Field(
        default="reference", description="The JSON field that holds the notification id; empty: not sent."
    )
    sms_field_sender: str = Field(default="from", description="The JSON field for sms_sender_id, when that is set.")
    sms_sender_id: str | None = Field(default=None, description="A sender id or number, when the gateway wants one.")
    sms_field_message_id: str = Field(
        default="id", description="The field of the gateway's JSON answer that names the message, if it sends one."
    )
    sms_timeout: float = 10.0
    sms_dir: Path | None = Field(
        default=None, description="Where SMS go as .json files without a gateway. Default <data_dir>/sms."
    )

    reporter_sms_per_day: int = Field(
        default=10,
        ge=0,
        description="SMS one phone number gets per day (in default_timezone); past it they are skipped (daily_limit)."
        " 0 switches off.",
    )
    reporter_emails_per_day: int = Field(
        default=20,
        ge=0,
        description="Emails one reporter address gets per day; past it they are skipped (daily_limit). 0 switches off.",
    )

    quiet_hours: str = Field(
        default="",
        description="'HH:MM-HH:MM' in each recipient's timezone (e.g. 21:00-07:00): a message to a person that falls "
        "inside waits for its end. Empty: none.",
    )
    default_timezone: str = Field(
        default="Asia/Jakarta", description="A reporter's timezone when the case's region does not tell (WIB)."
    )
    digest_hour: int | None = Field(
        default=8, ge=0, le=23, description="The local hour of the daily digest on working days; 'off': no digest."
    )
    digest_due_soon_days: int = Field(
        default=2, ge=0, le=30, description="Due soon: by the end of this many working days after today."
    )
    digest_max_cases: int = Field(default=100, ge=1, le=1000, description="At most this many cases per list.")
    digest_poll_seconds: float = 60.0

    max_attempts: int = Field(default=8, ge=1)
    sender_poll_interval: float = 0.5
    sender_batch: int = Field(default=20, ge=1, le=500)
    send_lease_seconds: float = Field(
        default=300.0, description="How long a picked notification is held by one sender before another may retry it."
    )
    retry_base_seconds: float = Field(default=30.0, description="The first retry's delay; doubled each attempt.")
    retry_max_seconds: float = Field(default=3600.0, description="The longest delay between two attempts.")
    contact_retry_seconds: float = Field(
        default=5.0, description="How soon to look again for a reporter's contact that has not arrived yet."
    )
    contact_wait_seconds: float = Field(
        default=3600.0, description="How long a notification waits for its contact before it is skipped."
    )
    public_base_url: str = "http://127.0.0.1:8000"
    reply_address: str | None = Field(
        default=None,
        description="The hub's address for replies by email (e.g. lapor@hub.example): a reporter's mail then carries"
        " Reply-To lapor+<tracking_id>.<token>@hub.example, which the email door takes as a message on that case."
        " Unset: reporters are asked not to reply.",
    )
    reply_secret: SecretStr | None = Field(
        default=None, description="The secret the reply addresses' tokens are made with; the email door has it too."
    )

    @field_validator("reply_address")
    @classmethod
    def _reply_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not is_email_address(value.strip()) or "+" in value:
            raise ValueError("reply_address must be a plain email address (no +tag), e.g. lapor@hub.example")
        return value.strip()

    @model_validator(mode="after")
    def _reply_needs_secret(self) -> NotifySettings:
        if self.reply_address and not (self.reply_secret and self.reply_secret.get_secret_value()):
            raise ValueError("reply_address needs reply_secret (SIMPUL_NOTIFY_REPLY_SECRET)")
        return self

    def reply_to(self, tracking_id: str) -> str | None:
        """The case's reply address, when the hub takes replies by email."""
        if not self.reply_address or self.reply_secret is None:
            return None
        return reply_address(self.reply_address, tracking_id, self.reply_secret.get_secret_value())

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        QuietHours.parse(value)
        return value.strip()

    @field_validator("digest_hour", mode="before")
    @classmethod
    def _digest_off(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("", "off", "none") else value

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return zone(value).key

    def resolved_mail_dir(self) -> Path:
        return self.mail_dir if self.mail_dir is not None else self.data_dir / "mail"

    def resolved_sms_dir(self) -> Path:
        return self.sms_dir if self.sms_dir is not None else self.data_dir / "sms"

    def quiet(self) -> QuietHours | None:
        return QuietHours.parse(self.quiet_hours)
