"""`python -m services.doors.email`: the email door alone, configured from the environment (SIMPUL_EMAIL_*)."""

from __future__ import annotations

import uvicorn
from pydantic import ValidationError

from services.doors.email.app import create_app
from services.doors.email.settings import EmailDoorSettings
from shared.logging import configure_logging


def main() -> None:
    try:
        settings = EmailDoorSettings()  # api_key comes from the environment
    except ValidationError as exc:
        raise SystemExit(f"services.doors.email: the settings are not valid:\n{exc}") from None
    configure_logging("email-door", settings.log_level, settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
