"""notify_svc settings: env prefix SIMPUL_NOTIFY_."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import EncryptionSettings, ServiceSettings


class NotifySettings(ServiceSettings, EncryptionSettings):
    service_name: ClassVar[str] = "notify"
    model_config = SettingsConfigDict(env_prefix="SIMPUL_NOTIFY_", extra="ignore")

    smtp_host: str | None = Field(default=None, description="SMTP relay; unset: write .eml files to mail_dir.")
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(default=False, description="Require STARTTLS (never attempted when false).")
    smtp_timeout: float = 30.0
    mail_from: str = "Simpul <no-reply@simpul.localhost>"
    mail_dir: Path | None = Field(
        default=None, description="Where .eml files go without SMTP. Default <data_dir>/mail."
    )
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

    def resolved_mail_dir(self) -> Path:
        return self.mail_dir if self.mail_dir is not None else self.data_dir / "mail"
