"""What a statement's result tells besides its rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Result


def rows_affected(result: Result[Any]) -> int:
    """How many rows an INSERT, UPDATE or DELETE wrote."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} carries no row count")
    return result.rowcount
