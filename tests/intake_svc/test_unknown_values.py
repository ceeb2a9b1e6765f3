"""No wrong door: a submission naming a category or region the hub does not know is taken, with warnings; intake
learns the category tree from category.changed (and, with the hub running, from its default tree at once)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from intake_svc.models import Base, CategoryReplica
from routing_svc.app import create_app as routing_app
from routing_svc.categories.service import DEFAULT_TREE
from routing_svc.settings import RoutingSettings
from shared.events.contracts import CategoryChanged
from tests.intake_svc.conftest import Intake, complaint_body, limited_intake, publish_and_wait
from tests.support.apps import ADMIN_KEY, auth, eventually, running_service, service_settings
from tests.support.databases import TestDatabase, fresh_database

CATEGORIES = Base.metadata.tables[CategoryReplica.__tablename__]


def changed(code: str, version: int = 1, *, is_active: bool = True, parent: str | None = None) -> CategoryChanged:
    return CategoryChanged(
        code=code,
        name=f"Kategori {code}",
        name_en=f"Category {code}",
        parent_code=parent,
        is_active=is_active,
        version=version,
    )


def codes(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [(w["code"], w["field"]) for w in answer["warnings"]]


async def test_unknown_values_are_accepted_with_warnings(database: TestDatabase, natsd: Any, tmp_path: Path) -> None:
    async with limited_intake(database, natsd, tmp_path, known_categories_ttl_s=0.001) as intake:
        await publish_and_wait(intake, changed("pemasyarakatan", parent="hukum"))
        known = await intake.submit()
        assert known["warnings"] == [] and known["status"] == "submitted"
        village = await intake.submit(category="PEMASYARAKATAN", region_code="3578010001")
        assert village["warnings"] == [], "a village of a known kota, and the category in any case"
        no_values = await intake.submit(category=None, region_code=None)
        assert no_values["warnings"] == []

        both = await intake.submit(category="kategori-baru", region_code="9999")
        assert codes(both) == [("unknown_category", "category"), ("unknown_region", "region_code")]
        message = both["warnings"][0]["message"]
        indonesian, english = message.split("; ")
        assert "tidak dikenal" in indonesian and "'kategori-baru'" in indonesian and "not known" in english
        assert codes(await intake.submit(region_code="3599")) == [("unknown_region", "region_code")]
        assert codes(await intake.submit(region_code="99")) == [("unknown_region", "region_code")]

        view = await intake.view(both)
        assert view["category"] == "kategori-baru", "the value is kept as sent"

        malformed = await intake.client.post("/api/v1/complaints", json=complaint_body(region_code="35.78"))
        assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "validation_error"


async def test_an_idempotent_replay_carries_the_first_warnings(intake: Intake) -> None:
    headers = {"Idempotency-Key": "sms-gateway-42"}
    first = await intake.submit(headers=headers, category="tidak-dikenal")
    again = await intake.client.post(
        "/api/v1/complaints", json=complaint_body(category="tidak-dikenal"), headers=headers
    )
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first and codes(first) == [("unknown_category", "category")]


async def test_the_replica_takes_newer_versions_only(database: TestDatabase, natsd: Any, tmp_path: Path) -> None:
    async with limited_intake(database, natsd, tmp_path, known_categories_ttl_s=0.001) as intake:
        await publish_and_wait(intake, changed("pupuk", 2, is_active=False))
        await publish_and_wait(intake, changed("pupuk", 1))  # late and older: ignored
        assert codes(await intake.submit(category="pupuk")) == [("unknown_category", "category")]
        await publish_and_wait(intake, changed("pupuk", 3))
        assert (await intake.submit(category="pupuk"))["warnings"] == []
        assert await intake.count(CATEGORIES) == 1


async def test_intake_learns_the_hubs_tree_from_its_events(
    backend: str, database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    """routing_svc and intake_svc, each with its own database, on one nats-server: the default tree the hub seeds
    reaches intake with no step of anyone's, and so does a category an admin adds; a case with unknown values is
    flagged at the hub."""
    async with (
        fresh_database(backend, tmp_path, "routing") as routing_db,
        running_service(
            "routing_svc", routing_app, service_settings(RoutingSettings, routing_db, natsd, tmp_path / "routing")
        ) as (_, hub),
        limited_intake(database, natsd, tmp_path, known_categories_ttl_s=0.001) as intake,
    ):

        async def knows(category: str) -> bool:
            r = await intake.client.post("/api/v1/complaints", json=complaint_body(category=category))
            assert r.status_code == 201
            return r.json()["warnings"] == []

        tree = json.loads(DEFAULT_TREE.read_text(encoding="utf-8"))

        async def replicated() -> bool:
            return await intake.count(CATEGORIES) == len(tree)

        await eventually(replicated)
        assert await knows("rumah-sakit") and await knows(tree[-1]["code"])

        assert not await knows("rsud-baru")
        made = await hub.post(
            "/api/v1/hub/categories",
            json={"code": "rsud-baru", "name": "RSUD Baru", "name_en": "New hospital", "parent_code": "rumah-sakit"},
            headers=auth(ADMIN_KEY),
        )
        assert made.status_code == 201, made.text
        await eventually(lambda: knows("rsud-baru"))

        odd = await intake.submit(category="entah-apa", region_code="9999")
        assert codes(odd) == [("unknown_category", "category"), ("unknown_region", "region_code")]

        async def flagged() -> list[dict[str, Any]] | None:
            r = await hub.get("/api/v1/hub/complaints?flagged=true", headers=auth(ADMIN_KEY))
            found = [c for c in r.json()["items"] if c["tracking_id"] == odd["tracking_id"]]
            return found or None

        (case,) = await eventually(flagged)
        assert case["flags"] == ["unknown_category", "unknown_region"] and case["agency_code"] is None
