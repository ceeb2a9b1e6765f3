"""Rendering a page: the visitor's language, the CSRF cookie and token, and the helpers every template uses."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.support import Translations
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import Response

from services.web import dates
from services.web.i18n import LANG_COOKIE, LANGUAGES, Language, as_language, request_language
from services.web.security import CSRF_COOKIE, CSRF_FIELD, Keys, csrf_token, new_csrf_cookie
from services.web.words import CLASSIFICATIONS, STATUSES

TEMPLATES = Path(__file__).parent / "templates"
YEAR_S = 365 * 24 * 3600


def _environment(translations: Translations) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(classifications=CLASSIFICATIONS, statuses=STATUSES, csrf_field=CSRF_FIELD)
    return env


class Pages:
    def __init__(self, catalogs: dict[Language, Translations], keys: Keys, secure_cookies: bool):
        self.envs = {language: _environment(catalogs[language]) for language in LANGUAGES}
        self.keys = keys
        self.secure = secure_cookies

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        status: int = 200,
        *,
        switch: bool = True,
    ) -> HTMLResponse:
        """The page in the visitor's language; `switch` offers the other language (never on a POST's answer)."""
        language = request_language(request)
        cookie = request.cookies.get(CSRF_COOKIE) or new_csrf_cookie()
        zone_names = (context or {}).get("province_zones")
        page = {
            "request": request,
            "lang": language,
            "switch_url": _switch_url(request, language) if switch and request.method == "GET" else None,
            "csrf_token": csrf_token(self.keys, cookie),
            "when": lambda moment, region=None: _when(moment, region, language, zone_names),
            "day": lambda d: _day(d, language),
            **(context or {}),
        }
        response = HTMLResponse(self.envs[language].get_template(template).render(page), status_code=status)
        if request.cookies.get(CSRF_COOKIE) != cookie:
            self.cookie(response, CSRF_COOKIE, cookie, path="/")
        chosen = as_language(request.query_params.get("lang"))
        if chosen is not None and request.cookies.get(LANG_COOKIE) != chosen:
            self.cookie(response, LANG_COOKIE, chosen, path="/", max_age=YEAR_S)
        return response

    def cookie(self, response: Response, name: str, value: str, *, path: str, max_age: int | None = None) -> None:
        response.set_cookie(name, value, path=path, max_age=max_age, httponly=True, samesite="lax", secure=self.secure)


def _switch_url(request: Request, current: Language) -> str:
    other = "en" if current == "id" else "id"
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "sent")]
    return f"{request.url.path}?{urlencode([*query, ('lang', other)])}"


def _when(moment: str | datetime | None, region: str | None, language: str, zones: dict[str, str] | None) -> str:
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return dates.local_datetime(moment, dates.zone_of_region(region, zones), language)


def _day(value: str | date | None, language: str) -> str:
    if not value:
        return ""
    return dates.local_date(date.fromisoformat(value) if isinstance(value, str) else value, language)
