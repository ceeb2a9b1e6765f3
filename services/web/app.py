"""The portal's FastAPI app: the pages, their static files, and a plain page for every failure."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.web import report, track
from services.web.api import PortalApi
from services.web.body_limit import PortalBodyLimit
from services.web.i18n import N_, load_catalogs
from services.web.pages import Pages
from services.web.portal import CsrfRefused, Portal, PortalDep
from services.web.reference import ReferenceData
from services.web.security import Keys, SecurityHeadersMiddleware
from services.web.settings import WebSettings
from shared.http.limits import DEFAULT_MAX_BODY_BYTES, BodyLimits
from shared.logging import get_logger

log = get_logger(__name__)

STATIC = Path(__file__).parent / "static"
FORMS_WITH_FILES = re.compile(r"^/report$|^/track/[^/]+/attachments$")

PAGE_NOT_FOUND = N_("Page not found. If you typed the address, check it is right.")
FORM_EXPIRED = N_(
    "This form has expired or was not sent from this site, so nothing was done. Go back, reload the page and try again."
)
FORM_UNREADABLE = N_("The form could not be read. Go back and try again.")
FORM_TOO_LARGE = N_("What you sent is too large. Choose fewer or smaller files, then try again.")
SOMETHING_WRONG = N_("Sorry, something went wrong on our side. Nothing you did caused it. Try again later.")


def create_app(settings: WebSettings, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    api = PortalApi(settings.api_base_url, settings.api_timeout_s, transport)
    keys = Keys.from_secret(settings.secret.get_secret_value())
    portal = Portal(
        settings=settings,
        api=api,
        reference=ReferenceData(api, settings.reference_ttl_s),
        keys=keys,
        pages=Pages(load_catalogs(), keys, settings.cookies_secure()),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await api.aclose()

    app = FastAPI(
        title="Simpul portal",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        redirect_slashes=False,
    )
    app.state.portal = portal
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(report.router)
    app.include_router(track.router)

    @app.get("/")
    async def start(request: Request, portal: PortalDep) -> Response:
        """The start page: report a problem, or track a case."""
        return portal.pages.render(request, "start.html")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "web"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        # The API's process, not every service behind it: a service that is down gets the portal's own page.
        if await api.answers():
            return JSONResponse({"status": "ready", "service": "web"})
        return JSONResponse({"status": "unavailable", "service": "web", "checks": {"api": "down"}}, status_code=503)

    def error_page(request: Request, status: int, message: str) -> Response:
        return portal.pages.render(request, "error.html", {"message": message, "status": status}, status, switch=False)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _: CsrfRefused) -> Response:
        return error_page(request, 403, FORM_EXPIRED)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path in ("/healthz", "/readyz"):
            return JSONResponse({"error": {"code": "error", "message": str(exc.detail)}}, status_code=exc.status_code)
        message = {404: PAGE_NOT_FOUND, 413: FORM_TOO_LARGE}.get(exc.status_code, FORM_UNREADABLE)
        response = error_page(request, exc.status_code, message)
        if exc.status_code == 405 and exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("page_failed", path=request.url.path, error=type(exc).__name__)
        return error_page(request, 500, SOMETHING_WRONG)

    limits = BodyLimits(DEFAULT_MAX_BODY_BYTES, [(FORMS_WITH_FILES, settings.max_report_bytes)])
    app.add_middleware(PortalBodyLimit, limits=limits)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
