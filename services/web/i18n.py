"""Languages: Indonesian by default, English on request; the gettext catalogs compiled in memory at startup."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

Language = Literal["id", "en"]
LANGUAGES: tuple[Language, ...] = ("id", "en")
DEFAULT: Language = "id"
LANG_COOKIE = "simpul_lang"
LOCALE_DIR = Path(__file__).parent / "locale"


def N_(message: str) -> str:
    """Marks a message for the catalog; the page that shows it translates it."""
    return message


def load_catalogs(locale_dir: Path = LOCALE_DIR) -> dict[Language, Translations]:
    """Each language's messages.po, compiled in memory (no .mo files are kept)."""
    catalogs: dict[Language, Translations] = {}
    for language in LANGUAGES:
        with (locale_dir / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
            catalog = read_po(po, locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        catalogs[language] = Translations(compiled)
    return catalogs


def as_language(value: str | None) -> Language | None:
    value = (value or "").strip().lower()
    return value if value in LANGUAGES else None


def from_accept_language(header: str) -> Language | None:
    """The first of our languages the browser asks for, by its q-values; None when it asks for neither."""
    ranked: list[tuple[float, int, Language]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        language = as_language(tag.split("-")[0])
        if language is not None and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def chosen_language(query: Mapping[str, str], cookies: Mapping[str, str], accept_language: str) -> Language:
    """?lang= first, then the remembered choice, then the browser's languages, else Indonesian."""
    return (
        as_language(query.get("lang"))
        or as_language(cookies.get(LANG_COOKIE))
        or from_accept_language(accept_language)
        or DEFAULT
    )


def request_language(request: Request) -> Language:
    return chosen_language(request.query_params, request.cookies, request.headers.get("accept-language", ""))
