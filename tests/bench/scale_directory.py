"""A synthetic directory for the scale bench: ministries with a Kanwil per province and UPTs per regency, and regional
governments (pemda) with their dinas; one routing rule per node at the depth a real one would sit, some with
keywords; and a mix of complaints that reach those rules, the reporter's choice, whistleblowing and triage.

Rows are what the API would write (routing_svc/directory/service.py, routing_svc/rules/service.py) minus the audit
entries and the directory.node_upserted events, which routing never reads back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from routing_svc.models import ANY
from routing_svc.rules.matcher import normalize, specificity_x10
from shared.domain import Classification, NodeKind, Timezone

WIB_PROVINCES = (11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 61, 62)
WITA_PROVINCES = (51, 52, 53, 63, 64, 65, 71, 72, 73, 74, 75, 76)
WIT_PROVINCES = (81, 82, 91, 94)
PROVINCES = tuple(str(code) for code in sorted(WIB_PROVINCES + WITA_PROVINCES + WIT_PROVINCES))
"""34 province codes (Kemendagri), by timezone."""

DINAS = ("inspektorat", "pendidikan", "kesehatan", "pekerjaan umum", "perhubungan", "kependudukan", "sosial")
"""A pemda's units: the first is its inspektorat (its integrity node), the others serve one category each."""

KEYWORDS = {"pendidikan": ["pungutan liar", "ijazah"], "kesehatan": ["bpjs"], "pekerjaan umum": ["jalan rusak"]}
"""Keyword rules: a dinas whose category is here also routes these words to the pemda's inspektorat."""


def timezone_of(province: str) -> str:
    if int(province) in WIT_PROVINCES:
        return Timezone.WIT.value
    if int(province) in WITA_PROVINCES:
        return Timezone.WITA.value
    return Timezone.WIB.value


@dataclass(frozen=True)
class Shape:
    """How big a directory is. Every node but the instansi (ministries and pemda) is a unit."""

    ministries: int
    kanwil_per_ministry: int
    upt_per_kanwil: int
    pemda: int
    dinas_per_pemda: int
    rules: int
    """At most this many rules: the instansi's first, then the units' in tree order."""

    @property
    def instansi(self) -> int:
        return self.ministries + self.pemda

    @property
    def nodes(self) -> int:
        kanwil = self.ministries * self.kanwil_per_ministry
        return self.instansi + kanwil + kanwil * self.upt_per_kanwil + self.pemda * self.dinas_per_pemda


@dataclass
class Directory:
    """The rows to insert, and what the complaint mix needs to know about them."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    ministry_routes: list[tuple[str, str]] = field(default_factory=list)
    """(category, regency code) a ministry serves through a Kanwil or a UPT."""
    pemda_regencies: list[str] = field(default_factory=list)
    dinas_categories: list[str] = field(default_factory=list)


def _node(
    code: str,
    kind: NodeKind,
    parent: dict[str, Any] | None,
    *,
    regions: list[str],
    categories: list[str],
    tz: str,
    now: datetime,
) -> dict[str, Any]:
    path = (parent["path"] if parent else "/") + code + "/"
    return {
        "code": code,
        "name": f"{kind.value.replace('_', ' ').title()} {code}",
        "kind": kind.value,
        "parent_code": parent["code"] if parent else None,
        "path": path,
        "depth": parent["depth"] + 1 if parent else 0,
        "region_codes": regions,
        "categories": categories,
        "timezone": tz,
        "is_active": True,
        "liaison_officers": [],
        "integrity_node_code": None,
        "created_at": now,
        "updated_at": now,
    }


def _rule(
    agency_code: str,
    now: datetime,
    *,
    category: str = ANY,
    region: str = ANY,
    classification: str = ANY,
    keywords: list[str] | None = None,
) -> dict[str, Any]:
    words = [normalize(k) for k in keywords or []]
    return {
        "agency_code": agency_code,
        "classification": classification,
        "category": category.lower(),
        "region_code": region,
        "keywords": words,
        "priority": 0,
        "specificity": specificity_x10(
            keywords=words, category=category, classification=classification, region_code=region
        ),
        "created_at": now,
    }


def build(shape: Shape, now: datetime) -> Directory:
    d = Directory(dinas_categories=list(DINAS[1 : shape.dinas_per_pemda]))
    instansi_rules: list[dict[str, Any]] = []
    unit_rules: list[dict[str, Any]] = []
    for m in range(shape.ministries):
        category = f"layanan kementerian {m + 1:03d}"
        ministry = _node(
            f"KL{m + 1:03d}", NodeKind.instansi, None, regions=[], categories=[category], tz=Timezone.WIB, now=now
        )
        d.nodes.append(ministry)
        instansi_rules.append(_rule(ministry["code"], now, category=category))
        for k in range(shape.kanwil_per_ministry):
            province = PROVINCES[k % len(PROVINCES)]
            tz = timezone_of(province)
            kanwil = _node(
                f"{ministry['code']}-P{province}{k // len(PROVINCES) or ''}",
                NodeKind.kanwil,
                ministry,
                regions=[province],
                categories=[category],
                tz=tz,
                now=now,
            )
            d.nodes.append(kanwil)
            unit_rules.append(_rule(kanwil["code"], now, category=category, region=province))
            for u in range(shape.upt_per_kanwil):
                regency = f"{province}{u + 1:02d}"
                upt = _node(
                    f"{kanwil['code']}-U{u + 1:02d}",
                    NodeKind.upt,
                    kanwil,
                    regions=[regency],
                    categories=[category],
                    tz=tz,
                    now=now,
                )
                d.nodes.append(upt)
                unit_rules.append(_rule(upt["code"], now, category=category, region=regency))
                d.ministry_routes.append((category, regency))
            d.ministry_routes.append((category, f"{province}{shape.upt_per_kanwil + 1:02d}"))
    for p in range(shape.pemda):
        province = PROVINCES[p % len(PROVINCES)]
        regency = f"{province}{p // len(PROVINCES) + 1:02d}"
        tz = timezone_of(province)
        pemda = _node(f"PD{regency}", NodeKind.instansi, None, regions=[regency], categories=[], tz=tz, now=now)
        d.nodes.append(pemda)
        d.pemda_regencies.append(regency)
        instansi_rules.append(_rule(pemda["code"], now, region=regency))
        inspektorat_code: str | None = None
        for u in range(shape.dinas_per_pemda):
            name = DINAS[u % len(DINAS)]
            kind = NodeKind.inspektorat if u == 0 else NodeKind.unit
            unit = _node(
                f"{pemda['code']}-{name.replace(' ', '').upper()[:12]}{u // len(DINAS) or ''}",
                kind,
                pemda,
                regions=[regency],
                categories=[] if u == 0 else [name],
                tz=tz,
                now=now,
            )
            d.nodes.append(unit)
            if u == 0:
                inspektorat_code = unit["code"]
                pemda["integrity_node_code"] = inspektorat_code
                unit_rules.append(_rule(unit["code"], now, region=regency, classification=Classification.wbs.value))
                continue
            unit_rules.append(_rule(unit["code"], now, category=name, region=regency))
            if name in KEYWORDS and inspektorat_code is not None:
                unit_rules.append(_rule(inspektorat_code, now, category=name, region=regency, keywords=KEYWORDS[name]))
    d.rules = (instansi_rules + unit_rules)[: shape.rules]
    stamp = now - timedelta(days=30)
    for i, rule in enumerate(d.rules):
        rule["created_at"] = stamp + timedelta(seconds=i)
    return d


def village(regency: str, rng: random.Random) -> str:
    """A 10-digit village code in `regency`."""
    return f"{regency}{rng.randint(1, 30):02d}{rng.randint(1, 2020):04d}"


@dataclass(frozen=True)
class Submission:
    """The parts of complaint.submitted the mix chooses."""

    title: str
    content: str
    classification: str
    category: str | None
    region_code: str | None
    agency_code: str | None


def complaints(d: Directory, n: int, seed: int) -> list[Submission]:
    """`n` complaints: mostly rule-routed (ministry by province or regency, dinas by regency, pemda by region, some
    matched by keywords), a few by the reporter's choice, a few whistleblowing reports, a few left to triage."""
    rng = random.Random(seed)
    out: list[Submission] = []
    plain = "Mohon ditindaklanjuti, layanan di kantor ini lambat dan tidak jelas prosedurnya."
    category: str | None
    for _ in range(n):
        roll = rng.random()
        pemda = rng.choice(d.pemda_regencies) if d.pemda_regencies else None
        if roll < 0.40 and d.ministry_routes:
            category, regency = rng.choice(d.ministry_routes)
            out.append(Submission("Layanan lambat", plain, "pengaduan", category, village(regency, rng), None))
        elif roll < 0.65 and pemda and d.dinas_categories:
            category = rng.choice(d.dinas_categories)
            out.append(Submission("Keluhan dinas", plain, "pengaduan", category, village(pemda, rng), None))
        elif roll < 0.75 and pemda:
            category = rng.choice(list(KEYWORDS))
            words = rng.choice(KEYWORDS[category])
            text = f"Ada {words} di sekolah kami, sudah dua kali terjadi bulan ini."
            out.append(Submission("Laporan warga", text, "pengaduan", category, village(pemda, rng), None))
        elif roll < 0.85 and pemda:
            out.append(Submission("Aspirasi warga", plain, "aspirasi", None, village(pemda, rng), None))
        elif roll < 0.92:
            chosen = rng.choice(d.nodes)["code"]
            out.append(Submission("Untuk instansi pilihan", plain, "permintaan_informasi", None, None, chosen))
        elif roll < 0.96 and pemda:
            category = rng.choice(d.dinas_categories) if d.dinas_categories else None
            text = "Pejabat dinas meminta imbalan untuk izin usaha."
            out.append(Submission("Dugaan gratifikasi", text, "wbs", category, village(pemda, rng), None))
        else:
            out.append(Submission("Lainnya", plain, "pengaduan", "lainnya", "9999", None))
    return out
