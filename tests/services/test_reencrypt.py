"""Key rotation: the newest key seals, any key opens, and `simpul reencrypt` moves everything stored to the newest."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from notify_svc.models import Base as NotifyBase
from notify_svc.models import Contact
from services.secrets_store import load_or_create
from services.state import write_state
from shared.crypto import Sealer, generate_fernet_key
from shared.db.engine import create_engine
from shared.db.migrations import upgrade, upgrade_async
from shared.db.reseal import reseal_database, sealed_tables
from tests.support.databases import TestDatabase

OLD, NEW = generate_fernet_key(), generate_fernet_key()


def _contact(tid: str, sealer: Sealer, email: str | None = "a@example.test") -> dict[str, Any]:
    return {
        "tracking_id": tid,
        "name_sealed": sealer.seal("Siti Aminah"),
        "email_sealed": sealer.seal_optional(email),
        "phone_sealed": None,
        "language": "id",
        "is_anonymous": False,
        "registered_at": datetime.now(UTC),
    }


def test_sealed_columns_are_found_by_their_suffix() -> None:
    found = {t.table.name: [c.name for c in t.columns] for t in sealed_tables(NotifyBase.metadata)}
    assert found == {
        "contacts": ["name_sealed", "email_sealed", "phone_sealed"],
        "notifications": ["context_sealed"],
        "idempotent_requests": ["response_sealed"],
    }


async def test_reseal_moves_every_value_to_the_newest_key_once(database: TestDatabase) -> None:
    await upgrade_async("notify_svc", database.url, database.schema)
    engine = create_engine(database.url, schema=database.schema)
    try:
        async with engine.begin() as conn:
            rows = [_contact(f"SPL-{i:04d}", Sealer([OLD])) for i in range(7)] + [_contact("SPL-NEW", Sealer([NEW]))]
            await conn.execute(insert(Contact), rows)
        rotated = Sealer([NEW, OLD])
        seen: list[int] = []
        counts = await reseal_database(
            engine, NotifyBase.metadata, rotated, batch=3, progress=lambda _t, c: seen.append(c.rows)
        )
        assert (counts["contacts"].rows, counts["contacts"].resealed, counts["contacts"].current) == (8, 14, 2)
        assert seen == [3, 6, 8], "progress after every batch"
        newest_only = Sealer([NEW])
        async with engine.connect() as conn:
            for name, email in (await conn.execute(select(Contact.name_sealed, Contact.email_sealed))).all():
                assert name is not None and email is not None
                assert newest_only.open(name) == "Siti Aminah" and newest_only.open(email) == "a@example.test"

        again = await reseal_database(engine, NotifyBase.metadata, rotated)
        assert (again["contacts"].resealed, again["contacts"].current) == (0, 16), "a second run changes nothing"

        async with engine.begin() as conn:
            await conn.execute(insert(Contact), [_contact("SPL-LOST", Sealer([generate_fernet_key()]))])
        with pytest.raises(ValueError, match="contacts.name_sealed of 'SPL-LOST'"):
            await reseal_database(engine, NotifyBase.metadata, rotated)
    finally:
        await engine.dispose()


def _simpul(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    argv = [sys.executable, "-m", "services.cli", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)


async def test_simpul_reencrypt_rotate_on_an_embedded_hub(tmp_path: Path) -> None:
    secrets = load_or_create(tmp_path, ["intake", "routing", "agency", "notify"], None)
    first_key = secrets.encryption_keys["notify"][0]
    db = tmp_path / "notify.db"
    await asyncio.to_thread(upgrade, "notify_svc", f"sqlite+aiosqlite:///{db}")
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(Contact), [_contact("SPL-0001", Sealer([first_key]))])
    finally:
        await engine.dispose()

    write_state(tmp_path, {"supervisor_pid": os.getpid()})
    refused = await asyncio.to_thread(_simpul, "reencrypt", "--rotate", "--data-dir", str(tmp_path))
    assert refused.returncode == 1 and "stop it first" in refused.stdout
    (tmp_path / "simpul.state.json").unlink()

    done = await asyncio.to_thread(_simpul, "reencrypt", "--rotate", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "notify   OK contacts: 1 rows, 2 values sealed again, 0 already under the newest key" in done.stdout
    assert "intake   no database" in done.stdout
    keys = json.loads((tmp_path / "secrets.json").read_text())["encryption_keys"]["notify"]
    assert len(keys) == 2 and keys[1] == first_key, "the new key goes first; the old one stays to open old data"

    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        async with engine.connect() as conn:
            name = (await conn.execute(text("SELECT name_sealed FROM contacts"))).scalar_one()
    finally:
        await engine.dispose()
    assert Sealer([keys[0]]).open(name) == "Siti Aminah"

    again = await asyncio.to_thread(_simpul, "reencrypt", "--data-dir", str(tmp_path), "--service", "notify")
    assert again.returncode == 0 and "0 values sealed again, 2 already under the newest key" in again.stdout
