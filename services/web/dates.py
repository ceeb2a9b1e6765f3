"""Dates as the reporter reads them: Indonesian style ("7 Desember 2026 14.30 WIB"), in the case's own zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from shared.domain import Timezone
from shared.reference.regions import regions

_PATTERNS = {"id": "d MMMM y HH.mm", "en": "d MMMM y, HH:mm"}


def zone_of_region(region_code: str | None, province_zones: dict[str, str] | None = None) -> Timezone:
    """The zone of a region code's province: from the API's reference data when it names one, else from the shipped
    regions; Western Indonesian Time for a code neither knows."""
    province = (region_code or "")[:2]
    named = (province_zones or {}).get(province)
    if named:
        for zone in Timezone:
            if named in (zone.name, zone.value):
                return zone
    return regions().timezone_of(province) or Timezone.WIB


def local_datetime(moment: datetime, zone: Timezone, language: str) -> str:
    """A moment in the zone, with the zone's Indonesian abbreviation: 7 Desember 2026 14.30 WIB."""
    text = format_datetime(
        moment, _PATTERNS.get(language, _PATTERNS["id"]), tzinfo=ZoneInfo(zone.value), locale=language
    )
    return f"{text} {zone.name}"


def local_date(day: date, language: str) -> str:
    return format_date(day, "d MMMM y", locale=language)
