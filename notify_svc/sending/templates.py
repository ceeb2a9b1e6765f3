"""Message templates: Jinja2 files under notify_svc/templates/<language>/<template>.{subject,body}.j2.

Plain text, so nothing is HTML-escaped; StrictUndefined, so a missing value is an error and never a blank.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from notify_svc.contacts.service import DEFAULT_LANGUAGE, LANGUAGES

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


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

    def templates(self) -> list[str]:
        """Every template name that has a subject and a body in every language."""
        names: set[str] | None = None
        for language in LANGUAGES:
            found = {p.name.removesuffix(".subject.j2") for p in (self.directory / language).glob("*.subject.j2")}
            names = found if names is None else names & found
        return sorted(names or ())

    def render(self, template: str, language: str, context: dict[str, Any]) -> Rendered:
        lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
        subject = self.env.get_template(f"{lang}/{template}.subject.j2").render(context)
        body = self.env.get_template(f"{lang}/{template}.body.j2").render(context)
        # A subject is one header line: no line breaks, whatever the template or its values hold.
        return Rendered(subject=" ".join(subject.split()), body=body.strip() + "\n")
