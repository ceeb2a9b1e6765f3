"""The list convention: `limit` (1..200, default 50), `offset` (>= 0), `next_offset` (null on the last page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

Limit = Annotated[int, Query(ge=1, le=200, description="Page size (1..200).")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="How many items to skip.")]


def next_offset(offset: int, limit: int, fetched: int) -> int | None:
    """Pages are fetched with limit + 1 rows: one more than the page means another page follows."""
    return offset + limit if fetched > limit else None
