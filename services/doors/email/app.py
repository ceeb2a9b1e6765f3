"""The door's process: the SMTP/LMTP server and the IMAP poller as configured, and a small HTTP app for /healthz
(the supervisor's check) and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.doors.email.api import HubApi
from services.doors.email.door import EmailDoor
from services.doors.email.imap import ImapPoller
from services.doors.email.settings import EmailDoorSettings
from services.doors.email.smtp import start_smtp
from shared.logging import get_logger

log = get_logger(__name__)


def create_app(settings: EmailDoorSettings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        api = HubApi(settings.api_url, settings.api_key.get_secret_value(), settings.api_timeout)
        door = EmailDoor(settings, api)
        stopping = asyncio.Event()
        server = await start_smtp(settings, door) if settings.smtp_mode != "off" else None
        poller = asyncio.create_task(ImapPoller(settings, door).run(stopping)) if settings.imap_host else None
        log.info(
            "email_door_started",
            smtp=f"{settings.smtp_mode}://{settings.smtp_host}:{settings.smtp_port}" if server else None,
            imap=f"{settings.imap_host}:{settings.imap_port}/{settings.imap_mailbox}" if poller else None,
        )
        try:
            yield
        finally:
            stopping.set()
            if server is not None:
                server.close()
                await server.wait_closed()
            if poller is not None:
                await poller
            await api.aclose()
            log.info("email_door_stopped")

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    routes = [Route("/healthz", healthz), Route("/readyz", healthz), Route("/metrics", metrics)]
    return Starlette(routes=routes, lifespan=lifespan)
