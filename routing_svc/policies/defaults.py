"""The deadlines that apply when no policy says otherwise (ARCHITECTURE.md "Deadlines"; DOMAIN.md for the law)."""

from __future__ import annotations

from shared.domain import Classification, ClockKind

C = Classification

RESOLUTION_DAYS: dict[Classification, int] = {
    C.pengaduan: 14,
    C.aspirasi: 5,
    C.permintaan_informasi: 5,
    C.wbs: 14,
}
BERKADAR_PENGAWASAN_DAYS = 60
"""A pengaduan that needs examination (berkadar pengawasan), PermenPANRB 62/2018 Bab VI."""

FIXED_DAYS: dict[ClockKind, int] = {
    ClockKind.verification: 3,
    ClockKind.first_response: 5,
    ClockKind.reporter_response: 10,
}


def default_working_days(kind: ClockKind, classification: Classification, berkadar_pengawasan: bool) -> int:
    if kind is ClockKind.resolution:
        if berkadar_pengawasan:
            return BERKADAR_PENGAWASAN_DAYS
        return RESOLUTION_DAYS[classification]
    return FIXED_DAYS[kind]


def default_table() -> list[tuple[ClockKind, Classification | None, bool, int]]:
    """(kind, classification or None for all, berkadar_pengawasan, working days), for the API."""
    rows: list[tuple[ClockKind, Classification | None, bool, int]] = [
        (kind, None, False, days) for kind, days in FIXED_DAYS.items()
    ]
    rows += [(ClockKind.resolution, c, False, days) for c, days in RESOLUTION_DAYS.items()]
    rows.append((ClockKind.resolution, C.pengaduan, True, BERKADAR_PENGAWASAN_DAYS))
    return rows
