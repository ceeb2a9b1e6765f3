"""`python -m services.web`: the portal alone, with its settings from the environment (SIMPUL_WEB_*)."""

from __future__ import annotations

import logging

import uvicorn
from pydantic import ValidationError

from services.web.app import create_app
from services.web.settings import WebSettings
from shared.logging import configure_logging
from shared.service_main import serve


def main() -> None:
    try:
        settings = WebSettings()
    except ValidationError as exc:
        raise SystemExit(f"services.web: the settings are not valid:\n{exc}") from None
    configure_logging("web", settings.log_level, settings.log_json)
    # Each API call it makes would be a line: the API's own logs hold them.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        # The peer stays the peer: the portal passes X-Forwarded-For on itself, with the peer appended.
        proxy_headers=False,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    serve(config)


if __name__ == "__main__":
    main()
