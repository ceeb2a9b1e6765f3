"""The timezone of a Kemendagri region code, from its province (the first two digits).

WIB (Asia/Jakarta): Sumatra (11-21), Java (31-36), West and Central Kalimantan (61, 62). WITA (Asia/Makassar): Bali and
Nusa Tenggara (51-53), South, East and North Kalimantan (63-65), Sulawesi (71-76). WIT (Asia/Jayapura): Maluku (81, 82)
and the Papua provinces (91-96).
"""

from __future__ import annotations

from shared.domain import Timezone

_WITA_PROVINCES = frozenset({"51", "52", "53", "63", "64", "65"})


def timezone_of_region(region_code: str | None) -> str | None:
    """The IANA timezone of the region's province; None when there is no code or its province is unknown."""
    if not region_code or len(region_code) < 2 or not region_code[:2].isdigit():
        return None
    province = region_code[:2]
    first = province[0]
    if first in "123" or province in ("61", "62"):
        return Timezone.WIB.value
    if first == "7" or province in _WITA_PROVINCES:
        return Timezone.WITA.value
    if first in "89":
        return Timezone.WIT.value
    return None
