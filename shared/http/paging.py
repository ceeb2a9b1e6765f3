"""The list convention: `limit` (1..200, default 50), `offset` (0..10,000,000), `next_offset` (null on the last page).

A list endpoint takes `page: PageDep` and fetches `page.limit + 1` rows: one more than the page means another
page follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

MAX_LIMIT = 200
MAX_OFFSET = 10_000_000
THREAD_TAIL = 50
"""The latest messages a case view carries; the rest page through the case's `messages` list, newest first."""


@dataclass(frozen=True)
class Page:
    """Which slice of a list to answer with."""

    limit: int
    offset: int

    def next_offset(self, fetched: int) -> int | None:
        """The offset of the next page, when `fetched` rows (of limit + 1 asked for) say there is one; else None."""
        return self.offset + self.limit if fetched > self.limit else None


def page_of(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (1..{MAX_LIMIT}).")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many items to skip.")] = 0,
) -> Page:
    """The page the query parameters `limit` and `offset` ask for."""
    return Page(limit=limit, offset=offset)


PageDep = Annotated[Page, Depends(page_of)]
