"""Column types the services' tables share: UTC timestamps, tracking ids, node codes and case statuses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, String, TypeDecorator

from shared.clock import utc


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp with time zone, written in UTC and read back aware and in UTC (SQLite gives back naive ones)."""

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else utc(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        return None if value is None else utc(value)


TRACKING_ID = String(40)
"""A case's tracking id: `SPL-` and 10 characters today, room for longer ones (shared.domain.TrackingId)."""

NODE_CODE = String(64)
"""A directory node's code (shared.domain.NodeCode)."""

CASE_STATUS = String(32)
"""A case's status (shared.domain.Status)."""
