"""The shipped Kemendagri regions: 38 provinces, every kabupaten/kota under one, codes as RegionCode takes them."""

from __future__ import annotations

import json
from collections import Counter

from pydantic import TypeAdapter

from shared.domain import RegionCode, Timezone
from shared.reference.regions import DATA, RegionKind, regions

ROWS = json.loads(DATA.read_text(encoding="utf-8"))


def test_38_provinces_and_their_514_kabupaten_kota() -> None:
    shipped = regions()
    assert len(shipped.provinces()) == 38
    kinds = Counter(r.kind for r in shipped.by_code.values())
    assert kinds[RegionKind.province] == 38 and kinds[RegionKind.regency] + kinds[RegionKind.city] == 514
    assert shipped.by_code["11"].name == "Aceh" and shipped.by_code["3578"].name == "Kota Surabaya"
    assert shipped.by_code["96"].name == "Papua Barat Daya"


def test_every_code_is_a_region_code_unique_and_under_an_existing_parent() -> None:
    check = TypeAdapter(RegionCode)
    codes = [row["code"] for row in ROWS]
    assert len(codes) == len(set(codes)) and codes == sorted(codes)
    for row in ROWS:
        assert check.validate_python(row["code"]) == row["code"]
        assert row["name"] == row["name"].strip() and "  " not in row["name"]
        if row["kind"] == "province":
            assert len(row["code"]) == 2 and row["parent_code"] is None and Timezone(row["timezone"])
        else:
            assert len(row["code"]) == 4 and row["parent_code"] == row["code"][:2]
            assert row["parent_code"] in codes and "timezone" not in row
            kota = row["name"].startswith("Kota ")
            assert row["kind"] == ("city" if kota else "regency"), row
            assert kota or row["name"].startswith("Kabupaten ")


def test_time_zones_follow_the_provinces() -> None:
    shipped = regions()
    zones = Counter(p.timezone for p in shipped.provinces())
    # WIB: 10 in Sumatra, 6 in Java, 2 in Kalimantan; WITA: Bali and Nusa Tenggara, 3 in Kalimantan, 6 in Sulawesi
    assert zones == {Timezone.WIB: 18, Timezone.WITA: 12, Timezone.WIT: 8}
    assert shipped.by_code["6171"].timezone is Timezone.WIB  # Pontianak
    assert shipped.by_code["5171"].timezone is Timezone.WITA  # Denpasar
    assert shipped.by_code["9171"].timezone is Timezone.WIT  # Jayapura


def test_known_codes_include_districts_and_villages_of_a_known_kabupaten_kota() -> None:
    shipped = regions()
    assert shipped.is_known("35") and shipped.is_known("3578") and shipped.is_known("3578010001")
    assert not shipped.is_known("99") and not shipped.is_known("3599") and not shipped.is_known("359901")
    assert [r.code for r in shipped.under("12") or ()][:2] == ["1201", "1202"]
    assert shipped.under("1271") == () and shipped.under("99") is None


def test_a_codes_timezone_is_its_provinces() -> None:
    shipped = regions()
    assert shipped.timezone_of("3578") is Timezone.WIB and shipped.timezone_of("6171") is Timezone.WIB
    assert shipped.timezone_of("5171") is Timezone.WITA and shipped.timezone_of("7371010001") is Timezone.WITA
    assert shipped.timezone_of("94") is Timezone.WIT
    assert shipped.timezone_of("99") is None and shipped.timezone_of(None) is None and shipped.timezone_of("") is None
