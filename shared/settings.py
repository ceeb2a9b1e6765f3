"""Settings shared by every service; each service subclasses with its own env prefix (SIMPUL_<SERVICE>_)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    log_level: str = "INFO"
    log_json: bool = True

    bootstrap_admin_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SIMPUL_BOOTSTRAP_ADMIN_KEY", "bootstrap_admin_key"),
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        path = (self.data_dir / f"{self.service_name}.db").resolve()
        return f"sqlite+aiosqlite:///{path}"
