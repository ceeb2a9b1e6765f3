"""The timezone of a Kemendagri region code, from its province (the first two digits), as shared.reference has it."""

from __future__ import annotations

from shared.reference.regions import regions


def timezone_of_region(region_code: str | None) -> str | None:
    """The IANA timezone of the region's province; None when there is no code or its province is unknown."""
    zone = regions().timezone_of(region_code)
    return zone.value if zone is not None else None
