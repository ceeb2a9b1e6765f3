"""The portal's settings: env prefix SIMPUL_WEB_."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.http.limits import DEFAULT_ATTACHMENT_MAX_BYTES

MIB = 1024 * 1024


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIMPUL_WEB_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    api_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Where the public API answers (the gateway, or a proxy)."
    )
    public_base_url: str = Field(
        default="", description="Where citizens reach the portal; https makes every cookie Secure."
    )
    secret: SecretStr = Field(
        default=SecretStr(""),
        description="At least 32 characters: signs the forms' CSRF tokens and seals the receipt cookie.",
    )
    secure_cookies: bool | None = Field(
        default=None, description="Cookies only over https; unset, true when public_base_url is https."
    )
    api_timeout_s: float = Field(default=30.0, gt=0, description="How long the portal waits for the API.")
    max_report_bytes: int = Field(
        default=51 * MIB,
        ge=64 * 1024,
        description="The largest form the portal reads (a report and its files, or a file added later).",
    )
    max_files: int = Field(default=10, ge=0, description="Files one form may carry.")
    max_file_bytes: int = Field(
        default=DEFAULT_ATTACHMENT_MAX_BYTES,
        ge=1,
        description="The largest file the API takes (its attachment_max_bytes): a larger one is refused here, unsent.",
    )
    reference_ttl_s: float = Field(
        default=300.0, ge=0, description="How long reference data is used before it is checked again (ETag)."
    )
    receipt_cookie_hours: int = Field(default=12, ge=1, description="How long the portal remembers a receipt.")
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("set SIMPUL_WEB_SECRET to at least 32 random characters")
        return value

    def cookies_secure(self) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.public_base_url.lower().startswith("https://")
