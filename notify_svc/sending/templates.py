"""Message templates: Jinja2 files under notify_svc/templates/<language>/<template>.{subject,body,sms}.j2.

Plain text, so nothing is HTML-escaped; StrictUndefined, so a missing value is an error and never a blank.
Times are given to templates as ISO 8601 strings in UTC (a day as a plain date); the `local_date` and
`local_datetime` filters show them in the recipient's timezone (`timezone` in the context) and language
(`language`), e.g. "11 Maret 2026, 23.59 WIB".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Undefined,
    UndefinedError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from notify_svc.contacts.service import DEFAULT_LANGUAGE, LANGUAGES
from shared.calendar import ZONES, zone

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}  # fmt: skip
ZONE_NAMES = {iana: abbr for abbr, iana in ZONES.items()}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def _lookup(ctx: Context, name: str) -> str:
    value = ctx.resolve(name)
    if isinstance(value, Undefined):
        raise UndefinedError(f"{name!r} is undefined")
    return str(value)


def _local(ctx: Context, value: str) -> tuple[datetime, str]:
    """An ISO 8601 instant in the recipient's timezone (a date or a naive time is taken as local already)."""
    tz = zone(_lookup(ctx, "timezone"))
    language = _lookup(ctx, "language")
    language = language if language in MONTHS else DEFAULT_LANGUAGE
    at = datetime.fromisoformat(value)
    return (at.replace(tzinfo=tz) if at.tzinfo is None else at.astimezone(tz)), language


@pass_context
def local_date(ctx: Context, value: str) -> str:
    """`2026-03-11T16:59:59+00:00` -> `11 Maret 2026` (the date in the recipient's timezone)."""
    at, language = _local(ctx, value)
    return f"{at.day} {MONTHS[language][at.month - 1]} {at.year}"


@pass_context
def local_datetime(ctx: Context, value: str) -> str:
    """`2026-03-11T16:59:59+00:00` -> `11 Maret 2026, 23.59 WIB` (`23:59` in English)."""
    at, language = _local(ctx, value)
    separator = "." if language == "id" else ":"
    zone_name = ZONE_NAMES.get(str(at.tzinfo), str(at.tzinfo))
    return f"{local_date(ctx, value)}, {at.hour:02d}{separator}{at.minute:02d} {zone_name}"


class Renderer:
    def __init__(self, directory: Path = TEMPLATES_DIR):
        self.directory = directory
        self.env = Environment(
            loader=FileSystemLoader(str(directory)),
            # Only .html/.htm would be escaped; every template here is plain text (.j2).
            autoescape=select_autoescape(enabled_extensions=("html", "htm"), default=False, default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["local_date"] = local_date
        self.env.filters["local_datetime"] = local_datetime

    def _names(self, part: str) -> list[str]:
        names: set[str] | None = None
        for language in LANGUAGES:
            found = {p.name.removesuffix(f".{part}.j2") for p in (self.directory / language).glob(f"*.{part}.j2")}
            names = found if names is None else names & found
        return sorted(names or ())

    def templates(self) -> list[str]:
        """Every template name that has a subject and a body in every language."""
        return self._names("subject")

    def sms_templates(self) -> list[str]:
        """Every template name that has an SMS text in every language."""
        return self._names("sms")

    def render(self, template: str, language: str, context: dict[str, Any]) -> Rendered:
        lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
        subject = self.env.get_template(f"{lang}/{template}.subject.j2").render(context)
        body = self.env.get_template(f"{lang}/{template}.body.j2").render(context)
        # A subject is one header line: no line breaks, whatever the template or its values hold.
        return Rendered(subject=" ".join(subject.split()), body=body.strip() + "\n")

    def render_sms(self, template: str, language: str, context: dict[str, Any]) -> str:
        """The SMS text: one paragraph (line breaks and runs of spaces become one space)."""
        lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
        return " ".join(self.env.get_template(f"{lang}/{template}.sms.j2").render(context).split())
