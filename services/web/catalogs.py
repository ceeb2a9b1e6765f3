"""`python -m services.web.catalogs`: gathers the portal's messages and brings both catalogs up to date with them.

Messages are written in English in the code and the templates; the Indonesian catalog translates each, and the
English one leaves each as it is. A new message arrives in both catalogs untranslated (and is shown in English
until someone translates it: tests/web/test_catalogs.py says which)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from services.web.i18n import LANGUAGES, LOCALE_DIR

PACKAGE = Path(__file__).parent
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
KEYWORDS = {"_": None, "N_": None, "gettext": None}
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}


def extract() -> Catalog:
    catalog = Catalog(project="Simpul portal", fuzzy=False)
    for filename, lineno, message, comments, _context in extract_from_dir(
        PACKAGE, METHODS, keywords=KEYWORDS, options_map=OPTIONS, comment_tags=("TRANSLATORS:",)
    ):
        catalog.add(message, locations=[(filename, lineno)], auto_comments=comments)
    return catalog


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def read(language: str) -> Catalog:
    with catalog_path(language).open("rb") as po:
        return read_po(po, locale=language)


HEADER = "# The Simpul portal's messages ({language}). Apache-2.0, as the rest of Simpul."


def update() -> None:
    template = extract()
    for language in LANGUAGES:
        path = catalog_path(language)
        catalog = read(language) if path.exists() else Catalog(locale=language, project="Simpul portal", fuzzy=False)
        # The file's dates stay as they were, so that only a changed message changes the file.
        template.creation_date = catalog.creation_date
        catalog.update(template, no_fuzzy_matching=True)
        catalog.header_comment = HEADER.format(language=language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as po:
            write_po(po, catalog, width=120, no_location=True, sort_output=True, ignore_obsolete=True)


if __name__ == "__main__":
    update()
