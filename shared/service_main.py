"""`python -m <service>`: configure logging, run migrations when asked, serve with uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

import uvicorn
import uvloop
from fastapi import FastAPI
from pydantic import ValidationError

from shared.db.migrations import upgrade
from shared.logging import configure_logging
from shared.settings import EncryptionSettings, ServiceSettings


class _Server(uvicorn.Server):
    """uvicorn, minus raising the stopping signal again once it has shut down (which would end the process by that
    signal, exit -15, after a clean stop): a service that finished its work on SIGTERM or SIGINT exits 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def own_keys(settings: ServiceSettings) -> list[str] | None:
    """The service's encryption keys when it has any configured (migrations that seal data need them)."""
    if isinstance(settings, EncryptionSettings) and settings.encryption_keys.get_secret_value().strip():
        return settings.encryption_key_list()
    return None


def run_service(
    package: str, settings_cls: type[ServiceSettings], create_app: Callable[[ServiceSettings], FastAPI]
) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {package}")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args()
    try:
        settings = settings_cls()
    except ValidationError as exc:
        raise SystemExit(f"{package}: the settings are not valid:\n{exc}") from None
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    if args.command == "migrate":
        upgrade(package, settings.resolved_database_url(), settings.database_schema, encryption_keys=own_keys(settings))
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
    serve(config)


def serve(config: uvicorn.Config) -> None:
    """Serve until SIGINT or SIGTERM, on uvloop: uvicorn's loop setting applies only to uvicorn.run(), and a
    server run by hand gets its loop from the runner."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_Server(config).serve())
