"""What an SMS says: the case it replies to (when it begins with a tracking id), the category its keyword names, and
its text without either."""

from __future__ import annotations

import re
from dataclasses import dataclass

from intake_svc.complaints.service import TRACKING_PREFIX
from shared.domain import TRACKING_ID_PATTERN

EMPTY = "(pesan kosong)"
"""The content of an SMS that says nothing once its tracking id or keyword is taken off: it is filed all the same."""
TITLE_WORDS = 10
TITLE_MAX = 200
_TRAILING_PUNCTUATION = ":;,.!?"
_TRACKING_ID = re.compile(TRACKING_ID_PATTERN)
# Characters Crockford's base32 reads as others: a reporter copying a tracking id by hand may write O for 0.
_CROCKFORD_LOOKALIKES = str.maketrans("OIL", "011")


@dataclass(frozen=True)
class Reading:
    tracking_id: str | None
    """The case the SMS replies to: its first word, when that is a tracking id."""
    category: str | None
    """The category its first word names, when that is a keyword (never with a tracking id)."""
    content: str
    """The text without the tracking id or the keyword, its spacing kept; EMPTY when nothing is left."""

    @property
    def title(self) -> str:
        """The first words of the content, cut to the title's limit at a word's end."""
        title = " ".join(self.content.split()[:TITLE_WORDS])
        if len(title) <= TITLE_MAX:
            return title
        cut = title[: TITLE_MAX - 1]
        return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


def read(text: str, keywords: dict[str, str]) -> Reading:
    """Reads an SMS; `keywords` maps upper-case keywords to category codes."""
    stripped = text.strip()
    first, rest = _split_first_word(stripped)
    word = first.rstrip(_TRAILING_PUNCTUATION).upper()
    tracking_id = _tracking_id(word)
    if tracking_id is not None:
        return Reading(tracking_id=tracking_id, category=None, content=rest.strip() or EMPTY)
    category = keywords.get(word) if word else None
    if category is not None:
        return Reading(tracking_id=None, category=category, content=rest.strip() or EMPTY)
    return Reading(tracking_id=None, category=None, content=stripped or EMPTY)


def _split_first_word(text: str) -> tuple[str, str]:
    parts = text.split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def _tracking_id(word: str) -> str | None:
    if not word.startswith(TRACKING_PREFIX) or _TRACKING_ID.match(word) is None:
        return None
    return TRACKING_PREFIX + word[len(TRACKING_PREFIX) :].translate(_CROCKFORD_LOOKALIKES)
