"""Which rule routes a complaint. Pure functions; rules/repository.py feeds them the candidates from SQL.

A rule's matchers are all optional; a rule matches when every matcher it has matches:
- classification: equal;
- category: the complaint's category or one of its ancestors in the category tree, case-insensitively (a rule for
  `kesehatan` covers `rumah-sakit` under it);
- region_code: the rule's code matches itself and every code under it (rule "12" covers "1271" and "1271010001");
- keywords: ANY of them occurs in the title + content as a whole word (or whole phrase), case-insensitively.

The most specific rule wins, in this explicit order (first difference decides):
1. priority, highest first;
2. specificity, highest first: 4 if it has keywords + 2 if a category + 1 if a classification
   + len(region_code)/10 if a region (so a village beats a district beats a city beats a province);
3. the nearer category first: a rule for the complaint's own category (or for none) before one for its parent,
   and so on;
4. created_at, oldest first;
5. id, lowest first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

_WORD = re.compile(r"\w+")


def normalize(text: str) -> str:
    """Lower-case words joined by single spaces: 'Pungutan  LIAR!' -> 'pungutan liar'."""
    return " ".join(_WORD.findall(text.lower()))


def searchable(*texts: str) -> str:
    """The text a keyword is looked for in, padded so ' keyword ' finds whole words and phrases only."""
    return " " + " ".join(normalize(t) for t in texts if t) + " "


def keyword_hit(keywords: Iterable[str], haystack: str) -> bool:
    """True if any (normalized) keyword occurs as whole words in `haystack` (from `searchable`)."""
    return any(f" {k} " in haystack for k in keywords if k)


def region_prefixes(region_code: str | None) -> list[str]:
    """The codes a complaint's region falls under, itself included: '1271010001' -> ['12', '1271', ..., itself]."""
    if not region_code:
        return []
    return [region_code[:n] for n in range(2, len(region_code) + 1, 2)]


def specificity_x10(*, keywords: Sequence[str], category: str, classification: str, region_code: str) -> int:
    """The specificity times ten (an integer, so it sorts exactly in SQL): 40 + 20 + 10 + len(region)."""
    return (40 if keywords else 0) + (20 if category else 0) + (10 if classification else 0) + len(region_code)


@dataclass(frozen=True)
class Candidate:
    """A rule as the matcher sees it. Matchers left out are ''."""

    id: int
    agency_code: str
    classification: str
    category: str
    region_code: str
    keywords: tuple[str, ...]
    priority: int
    created_at: datetime

    @property
    def specificity(self) -> int:
        return specificity_x10(
            keywords=self.keywords,
            category=self.category,
            classification=self.classification,
            region_code=self.region_code,
        )


@dataclass(frozen=True)
class Complaint:
    classification: str
    category: str | None
    region_code: str | None
    title: str
    content: str
    category_ancestors: tuple[str, ...] = ()
    """The categories above `category` in the tree, nearest first (from categories/repository.py `lineage`)."""

    @property
    def categories(self) -> tuple[str, ...]:
        """The categories a rule may name to match: its own (lower case) and its ancestors, nearest first."""
        if not self.category:
            return ()
        return (self.category.strip().lower(), *self.category_ancestors)


def category_rank(c: Candidate, complaint: Complaint) -> int:
    """0 for a rule on the complaint's own category (or on none), 1 on its parent, 2 on the parent's parent, ..."""
    categories = complaint.categories
    return categories.index(c.category) if c.category in categories else 0


def sort_key(c: Candidate, complaint: Complaint) -> tuple[int, int, int, datetime, int]:
    return (-c.priority, -c.specificity, category_rank(c, complaint), c.created_at, c.id)


def structural_match(c: Candidate, complaint: Complaint) -> bool:
    """The matchers SQL checks: classification, category, region."""
    if c.classification and c.classification != complaint.classification:
        return False
    if c.category and c.category not in complaint.categories:
        return False
    return not (c.region_code and c.region_code not in region_prefixes(complaint.region_code))


def pick(candidates: Iterable[Candidate], complaint: Complaint) -> Candidate | None:
    """The winning rule among `candidates` for `complaint`, or None."""
    haystack = searchable(complaint.title, complaint.content)
    for c in sorted(candidates, key=lambda c: sort_key(c, complaint)):
        if structural_match(c, complaint) and (not c.keywords or keyword_hit(c.keywords, haystack)):
            return c
    return None
