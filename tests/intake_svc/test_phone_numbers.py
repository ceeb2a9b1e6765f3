"""The form accepts Indonesian mobile numbers only (written +628...), unless the settings name other countries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from intake_svc.models import Contact
from intake_svc.settings import IntakeSettings
from shared.crypto import Sealer
from tests.intake_svc.conftest import Intake, complaint_body, limited_intake
from tests.support.databases import TestDatabase


async def submit(intake: Intake, phone: str) -> Any:
    return await intake.client.post("/api/v1/complaints", json=complaint_body(reporter={"phone": phone}))


def phone_error(r: Any) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    body = r.json()["error"]
    assert body["code"] == "validation_error"
    [detail] = body["details"]
    assert detail["loc"] == ["body", "reporter", "phone"]
    return dict(detail)


async def stored_phones(intake: Intake) -> list[str]:
    sealer = Sealer(intake.settings.encryption_key_list())
    async with intake.runtime.db.session() as session:
        return [sealer.open(c.phone_sealed) for c in (await session.scalars(select(Contact))).all() if c.phone_sealed]


async def test_indonesian_mobiles_are_accepted_in_every_local_form(intake: Intake) -> None:
    for phone in ("+62 812 3456 7890", "62 812-3456-7890", "0812 3456 7890", "(0812) 3456-7890", "08112223334"):
        r = await submit(intake, phone)
        assert r.status_code == 201, (phone, r.text)
    assert await stored_phones(intake) == ["+6281234567890"] * 4 + ["+628112223334"]


async def test_landlines_and_other_countries_are_refused(intake: Intake) -> None:
    for phone in ("+62 21 555 1234", "021 555 1234", "+44 7700 900123", "+1 202 555 0143", "+62 812 3456"):
        detail = phone_error(await submit(intake, phone))
        assert detail["type"] == "phone_not_accepted", phone
        assert "hanya nomor ponsel +62 8..." in detail["msg"] and "only mobile numbers +62 8..." in detail["msg"]
    r = await submit(intake, "telepon saya")
    assert phone_error(r)["type"] == "string_pattern_mismatch"
    assert await stored_phones(intake) == []


async def test_a_setting_admits_other_countries(database: TestDatabase, natsd: Any, tmp_path: Path) -> None:
    async with limited_intake(database, natsd, tmp_path, phone_countries="60, +65") as intake:
        assert (await submit(intake, "+60 12 345 6789")).status_code == 201
        assert (await submit(intake, "+65 8123 4567")).status_code == 201
        detail = phone_error(await submit(intake, "+44 7700 900123"))
        assert "+62 8..., +60, +65" in detail["msg"]
        phone_error(await submit(intake, "+62 21 555 1234"))  # still no Indonesian landline
        assert sorted(await stored_phones(intake)) == ["+60123456789", "+6581234567"]


@pytest.mark.parametrize("value", ["62", "abc", "+", "1234"])
def test_the_setting_refuses_what_is_not_another_country_code(value: str) -> None:
    with pytest.raises(ValueError, match="not a country calling code"):
        IntakeSettings(phone_countries=value)
