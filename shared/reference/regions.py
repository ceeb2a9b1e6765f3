"""Kemendagri region codes and names: the 38 provinces and their kabupaten/kota, from regions.json (see SOURCE.md).

Codes carry no dots (`11`, `1101`), as shared.domain.RegionCode expects. Districts (6 digits) and villages
(10 digits) are not shipped: such a code is known when its kabupaten/kota is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from shared.domain import Timezone

DATA = Path(__file__).with_name("regions.json")
SHIPPED_DIGITS = 4
"""The longest codes in the file: kabupaten/kota."""


class RegionKind(StrEnum):
    province = "province"
    regency = "regency"
    """A kabupaten."""
    city = "city"
    """A kota."""


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    kind: RegionKind
    parent_code: str | None
    timezone: Timezone
    """A province's own; a kabupaten/kota has its province's (Indonesia's time zones follow provincial borders)."""


@dataclass(frozen=True)
class Regions:
    by_code: dict[str, Region]
    children: dict[str | None, tuple[Region, ...]]
    """Each code's kabupaten/kota, in code order; None's are the provinces."""

    def provinces(self) -> tuple[Region, ...]:
        return self.children[None]

    def under(self, code: str) -> tuple[Region, ...] | None:
        """The regions directly under `code` (empty for a kabupaten/kota), or None for an unknown code."""
        if code not in self.by_code:
            return None
        return self.children.get(code, ())

    def timezone_of(self, code: str | None) -> Timezone | None:
        """The time zone of a code's province (its first two digits); None without a code or for an unknown one."""
        province = self.by_code.get((code or "")[:2])
        return province.timezone if province is not None and province.parent_code is None else None

    def is_known(self, code: str) -> bool:
        """True for a shipped code, and for a district or village code whose kabupaten/kota is shipped."""
        if len(code) > SHIPPED_DIGITS:
            return code.isdigit() and code[:SHIPPED_DIGITS] in self.by_code
        return code in self.by_code


def parse(rows: list[dict[str, str | None]]) -> Regions:
    """The index of the file's rows; a kabupaten/kota must come after its province."""
    by_code: dict[str, Region] = {}
    children: dict[str | None, list[Region]] = {}
    for row in sorted(rows, key=lambda r: str(r["code"])):
        code, parent = str(row["code"]), row.get("parent_code")
        zone = Timezone(str(row["timezone"])) if parent is None else by_code[parent].timezone
        region = Region(code, str(row["name"]), RegionKind(str(row["kind"])), parent, zone)
        by_code[code] = region
        children.setdefault(parent, []).append(region)
    return Regions(by_code, {k: tuple(v) for k, v in children.items()})


@cache
def regions() -> Regions:
    """The shipped regions, read once per process."""
    return parse(json.loads(DATA.read_text(encoding="utf-8")))
