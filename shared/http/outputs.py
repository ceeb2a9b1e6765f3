"""Response value types: what the services' JSON bodies promise."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator

from shared.clock import utc

UtcDatetime = Annotated[datetime, AfterValidator(utc)]
"""A datetime that always serializes as ISO 8601 UTC."""
