"""What a statement's result tells besides its rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Result


def rows_affected(result: Result[Any]) -> int:
    """How many rows an INSERT, UPDATE or DELETE wrote; 0 for a result that did not come from a cursor."""
    return result.rowcount if isinstance(result, CursorResult) else 0
