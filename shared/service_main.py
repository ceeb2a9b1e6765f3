"""`python -m <service>`: configure logging, run migrations when asked, serve with uvicorn."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from shared.db.migrations import upgrade
from shared.logging import configure_logging
from shared.settings import ServiceSettings


def run_service(
    package: str, settings_cls: type[ServiceSettings], create_app: Callable[[ServiceSettings], FastAPI]
) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {package}")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args()
    settings = settings_cls()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    if args.command == "migrate":
        upgrade(package, settings.resolved_database_url(), settings.database_schema)
        return
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    asyncio.run(uvicorn.Server(config).serve())
