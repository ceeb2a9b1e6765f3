"""A reporter's name, email and phone, planted in a full `simpul up` run, are nowhere in plaintext afterwards: not in
any database file (WAL included), not in the JetStream store, not in any log. Only the mail sent to the reporter
holds them, and the API shows the name to the hub and to the agency that holds the case."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from tests.e2e.hub import Api, running_hub, wait_for

pytestmark = pytest.mark.e2e

NAME = "Wulandari Kusumaningtyas"
EMAIL = "wulan.planted@example.test"
PHONE = "+62 813 9876 5432"
TITLE = "Loket paspor ditutup tanpa pemberitahuan zq7"
"""Not personal: it is meant to travel in plaintext, and finding it proves the grep can see what is there."""


def _needles() -> dict[str, list[bytes]]:
    variants = {
        "name": [NAME, NAME.lower(), NAME.upper(), NAME.split()[1]],
        "email": [EMAIL, EMAIL.upper(), EMAIL.split("@")[0]],
        "phone": [PHONE, PHONE.replace(" ", ""), "81398765432"],
    }
    found: dict[str, list[bytes]] = {}
    for what, texts in variants.items():
        found[what] = [n for t in texts for n in (t.encode(), t.encode("utf-16-le"))]
    return found


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and "mail" not in p.relative_to(root).parts]


def test_planted_contact_details_rest_nowhere_in_plaintext(tmp_path: Path) -> None:
    data_dir = tmp_path / "hub"
    with running_hub(data_dir) as hub:
        api = Api(hub)
        try:
            api.node("KEMENLU", "instansi")
            api.node("IMIGRASI-SBY", "upt", "KEMENLU", region_codes=["3578"])
            key = api.key("IMIGRASI-SBY")
            rule = {"agency_code": "IMIGRASI-SBY", "category": "keimigrasian", "priority": 0}
            api.ok(api.client.post("/api/v1/hub/routing-rules", json=rule, headers=api.admin), 201)
            receipt = api.submit(
                title=TITLE, category="keimigrasian", reporter={"name": NAME, "email": EMAIL, "phone": PHONE}
            )
            tid = receipt["tracking_id"]
            wait_for(lambda: tid in api.inbox(key))

            seen_by_agency = api.ok(api.client.get(f"/api/v1/agency/complaints/{tid}", headers=key), 200)
            seen_by_hub = api.ok(api.client.get(f"/api/v1/hub/complaints/{tid}", headers=api.admin), 200)
            assert seen_by_agency["reporter_name"] == NAME and seen_by_hub["reporter_name"] == NAME
            assert EMAIL not in str(seen_by_agency) and PHONE not in str(seen_by_agency)

            api.ok(api.client.post(f"/api/v1/agency/complaints/{tid}/acknowledge", headers=key), 200)
            final = {"content": "Loket dibuka kembali; jadwal diumumkan.", "is_final": True}
            api.ok(api.client.post(f"/api/v1/agency/complaints/{tid}/follow-ups", json=final, headers=key), 201)
            wait_for(lambda: api.reporter_view(receipt)["status"] == "answered")
            mails = wait_for(lambda: len(found := _mails_to(data_dir / "mail", tid)) >= 3 and found, timeout=30)
        finally:
            api.client.close()

    assert all(m["To"] == EMAIL for m in mails), "notify opened the sealed contact to deliver"
    assert any(NAME in m.get_body(preferencelist=("plain",)).get_content() for m in mails)

    files = _files(data_dir)
    kinds = {
        "database": [p for p in files if ".db" in p.name],
        "JetStream store": [p for p in files if "jetstream" in p.parts],
        "log": [p for p in files if p.suffix in {".log", ".out"}],
    }
    for kind, paths in kinds.items():
        assert paths, f"the run left no {kind} files to check"
    title = TITLE.encode()
    assert any(title in p.read_bytes() for p in kinds["database"]), "the grep sees plaintext in the databases"
    assert any(title in p.read_bytes() for p in kinds["JetStream store"]), "the grep sees plaintext in the store"

    needles = _needles()
    leaks: list[str] = []
    for path in files:
        content = path.read_bytes()
        leaks += [
            f"{what} in {path.relative_to(data_dir)}" for what, ns in needles.items() if any(n in content for n in ns)
        ]
    assert leaks == [], f"plaintext contact details at rest: {leaks}"


def _mails_to(mail_dir: Path, tid: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        body = msg.get_body(preferencelist=("plain",))
        if body is not None and tid in body.get_content():
            found.append(msg)
    return found
