"""What every page handler needs: the settings, the API client, the reference data, the keys and the renderer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.datastructures import FormData
from starlette.requests import Request

from services.web.api import PortalApi
from services.web.pages import Pages
from services.web.reference import ReferenceData
from services.web.security import CSRF_COOKIE, CSRF_FIELD, Keys, csrf_valid, from_another_site
from services.web.settings import WebSettings

SMALL_FORM_PART_BYTES = 256 * 1024


class CsrfRefused(Exception):
    """A form without the token its CSRF cookie signs: sent from another site, or from a page too old."""


@dataclass
class Portal:
    settings: WebSettings
    api: PortalApi
    reference: ReferenceData
    keys: Keys
    pages: Pages

    async def form(self, request: Request, *, files: int = 0) -> FormData:
        """The posted form, once its CSRF token is checked (CsrfRefused otherwise); a form the browser says another
        site sent is refused before its body is read."""
        if from_another_site(request.headers, self.settings.public_base_url or str(request.base_url)):
            raise CsrfRefused
        form = await request.form(
            max_files=files + 100 if files else 0, max_fields=100, max_part_size=SMALL_FORM_PART_BYTES
        )
        token = form.get(CSRF_FIELD)
        if not csrf_valid(self.keys, request.cookies.get(CSRF_COOKIE), token if isinstance(token, str) else None):
            await form.close()
            raise CsrfRefused
        return form


def get_portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


PortalDep = Annotated[Portal, Depends(get_portal)]
