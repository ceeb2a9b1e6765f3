"""The rule matcher as unit tests (ordering, specificity, region prefixes, keywords), and its SQL form at scale."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from routing_svc.models import Node, RoutingRule
from routing_svc.rules.matcher import (
    Candidate,
    Complaint,
    keyword_hit,
    normalize,
    pick,
    region_prefixes,
    searchable,
    specificity_x10,
)
from routing_svc.rules.repository import best_rule
from tests.routing_svc.conftest import Hub

T0 = datetime(2025, 1, 1, tzinfo=UTC)
_ids = iter(range(1, 10_000))


def rule(
    agency: str,
    *,
    classification: str = "",
    category: str = "",
    region: str = "",
    keywords: tuple[str, ...] = (),
    priority: int = 0,
    at: int = 0,
    id: int | None = None,
) -> Candidate:
    return Candidate(
        id=id if id is not None else next(_ids),
        agency_code=agency,
        classification=classification,
        category=category,
        region_code=region,
        keywords=tuple(normalize(k) for k in keywords),
        priority=priority,
        created_at=T0 + timedelta(seconds=at),
    )


COMPLAINT = Complaint(
    classification="pengaduan",
    category="Pemasyarakatan",
    region_code="3578010001",
    title="Pungutan liar saat kunjungan",
    content="Petugas LAPAS meminta uang; jalan rusak di depan.",
)


def winner(*candidates: Candidate, complaint: Complaint = COMPLAINT) -> str | None:
    found = pick(candidates, complaint)
    return found.agency_code if found else None


def test_region_prefixes() -> None:
    assert region_prefixes("1271010001") == ["12", "1271", "127101", "12710100", "1271010001"]
    assert region_prefixes("12") == ["12"]
    assert region_prefixes(None) == []


def test_specificity_order() -> None:
    assert specificity_x10(keywords=["x"], category="", classification="", region_code="") == 40
    assert specificity_x10(keywords=[], category="c", classification="pengaduan", region_code="1271") == 34
    assert specificity_x10(keywords=[], category="", classification="", region_code="1271010001") == 10


def test_priority_beats_specificity() -> None:
    assert winner(rule("SPECIFIC", category="pemasyarakatan", region="3578"), rule("BROAD", priority=1)) == "BROAD"


def test_most_specific_wins() -> None:
    assert winner(rule("CLS", classification="pengaduan"), rule("CAT", category="pemasyarakatan")) == "CAT"
    assert (
        winner(
            rule("CAT+CLS", category="pemasyarakatan", classification="pengaduan"),
            rule("CAT", category="pemasyarakatan"),
        )
        == "CAT+CLS"
    )
    assert (
        winner(
            rule("KW", keywords=("pungutan liar",)),
            rule("CAT+CLS+REG", category="pemasyarakatan", classification="pengaduan", region="3578010001"),
        )
        == "KW"
    )
    assert winner(rule("ANY"), rule("CLS", classification="pengaduan")) == "CLS"


def test_deeper_region_wins_and_prefix_matches() -> None:
    assert (
        winner(rule("PROV", region="35"), rule("CITY", region="3578"), rule("VILLAGE", region="3578010001"))
        == "VILLAGE"
    )
    assert winner(rule("PROV", region="35"), rule("CITY", region="3578")) == "CITY"
    assert winner(rule("OTHER-PROV", region="12"), rule("OTHER-CITY", region="3579")) is None
    assert winner(rule("PROV", region="35"), complaint=Complaint("pengaduan", None, None, "t", "c")) is None


def test_structural_mismatch() -> None:
    assert winner(rule("WBS", classification="wbs")) is None
    assert winner(rule("EDU", category="pendidikan")) is None
    assert winner(rule("CAT", category="pemasyarakatan")) == "CAT", "category compares case-insensitively"


def test_keywords_whole_words_any_of_them() -> None:
    assert winner(rule("KW", keywords=("uang",))) == "KW"
    assert winner(rule("KW", keywords=("UANG", "nothing-here"))) == "KW", "any keyword, any case"
    assert winner(rule("KW", keywords=("ua",))) is None, "whole words only"
    assert winner(rule("KW", keywords=("liar saat",))) == "KW", "phrases match as whole words"
    assert winner(rule("KW", keywords=("lapas meminta uang",))) == "KW"
    assert winner(rule("KW", keywords=("uang jalan",))) == "KW", "between words, punctuation counts as a space"
    assert winner(rule("KW", keywords=("uang rusak",))) is None, "a phrase's words must be adjacent"
    assert winner(rule("KW", keywords=("jalan rusak",), category="pendidikan")) is None, "all matchers must hold"
    haystack = searchable("Jalan-jalan", "")
    assert keyword_hit(["jalan"], haystack) and not keyword_hit(["jala"], haystack)


def test_ties_go_to_the_oldest_then_the_lowest_id() -> None:
    assert winner(rule("NEW", category="pemasyarakatan", at=5), rule("OLD", category="pemasyarakatan", at=1)) == "OLD"
    assert winner(rule("B", at=1, id=9001), rule("A", at=1, id=9000)) == "A"


async def test_sql_lookup_agrees_and_stays_fast_with_20k_rules(hub: Hub) -> None:
    """20,000 rules in the table: the winner is what the pure matcher says, in a few milliseconds."""
    now = datetime.now(UTC)
    nodes: list[dict[str, Any]] = [
        {
            "code": f"N{i}",
            "name": f"N{i}",
            "kind": "instansi",
            "parent_code": None,
            "path": f"/N{i}/",
            "depth": 0,
            "region_codes": [],
            "categories": [],
            "timezone": "Asia/Jakarta",
            "is_active": i != 7,
            "liaison_officers": [],
            "created_at": now,
            "updated_at": now,
        }
        for i in range(50)
    ]
    categories = [f"cat{i}" for i in range(40)] + ["pemasyarakatan"]
    rows: list[dict[str, Any]] = []
    for i in range(20_000):
        category = categories[i % len(categories)] if i % 3 else ""
        region = ["", "35", "3578", "12", "1271", "3578010001"][i % 6]
        classification = ["", "pengaduan", "aspirasi"][i % 3]
        keywords = [f"kata{i % 97}"] if i % 5 == 0 else []
        rows.append(
            {
                "agency_code": f"N{i % 50}",
                "classification": classification,
                "category": category,
                "region_code": region,
                "keywords": keywords,
                "priority": i % 4 if i % 11 == 0 else 0,
                "specificity": specificity_x10(
                    keywords=keywords, category=category, classification=classification, region_code=region
                ),
                "created_at": now + timedelta(microseconds=i),
            }
        )
    async with hub.runtime.db.session() as session:
        await session.execute(insert(Node), nodes)
        await session.execute(insert(RoutingRule), rows)
        await session.commit()

    complaints = [
        COMPLAINT,
        Complaint("aspirasi", "cat3", "1271", "kata5 di sini", "isi"),
        Complaint("wbs", None, None, "tanpa kata", "apa pun"),
        Complaint("pengaduan", "cat9", "3578", "judul", "ada kata13 di sini"),
    ]
    candidates = [
        Candidate(
            id=i + 1,
            agency_code=r["agency_code"],
            classification=r["classification"],
            category=r["category"],
            region_code=r["region_code"],
            keywords=tuple(r["keywords"]),
            priority=r["priority"],
            created_at=r["created_at"],
        )
        for i, r in enumerate(rows)
        if r["agency_code"] != "N7"  # inactive nodes never win
    ]
    async with hub.runtime.db.session() as session:
        for complaint in complaints:
            expected = pick(candidates, complaint)
            started = time.perf_counter()
            got = await best_rule(session, complaint)
            elapsed = time.perf_counter() - started
            assert (got.id if got else None) == (expected.id if expected else None), complaint
            assert elapsed < 0.5, f"routing took {elapsed:.3f}s"


def test_a_parent_category_covers_its_children_and_the_nearer_one_wins() -> None:
    child = Complaint(
        classification="pengaduan",
        category="RSUD",
        region_code="3578010001",
        title="Antrean panjang",
        content="Menunggu lama.",
        category_ancestors=("rumah-sakit", "kesehatan"),
    )
    assert child.categories == ("rsud", "rumah-sakit", "kesehatan")
    assert winner(rule("KESEHATAN", category="kesehatan"), complaint=child) == "KESEHATAN"
    assert winner(rule("PENDIDIKAN", category="pendidikan"), complaint=child) is None
    assert (
        winner(rule("KESEHATAN", category="kesehatan"), rule("RS", category="rumah-sakit", at=1), complaint=child)
        == "RS"
    )
    assert winner(rule("RS", category="rumah-sakit"), rule("RSUD", category="rsud", at=1), complaint=child) == "RSUD"
    # A rule on no category ranks with the complaint's own: at equal specificity the older wins, as before the tree.
    tied = rule("RSUD-CLS-REG", category="rsud", classification="pengaduan", region="3578010001", at=1)
    assert winner(rule("ANY-KW", keywords=("antrean",)), tied, complaint=child) == "ANY-KW"
    assert winner(rule("ANY-KW", keywords=("antrean",), at=2), tied, complaint=child) == "RSUD-CLS-REG"
    assert winner(rule("KES-P1", category="kesehatan", priority=1), rule("RSUD", category="rsud"), complaint=child) == (
        "KES-P1"
    )
