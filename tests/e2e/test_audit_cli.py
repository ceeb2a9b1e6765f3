"""`simpul audit verify` on a real hub's databases: OK after real work, then one edited row fails it, by name."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from routing_svc.categories.service import DEFAULT_TREE, load_tree
from tests.e2e.hub import Api, asyncpg_url, drop_schemas, running_hub, wait_for

pytestmark = pytest.mark.e2e


def simpul_audit_verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "audit", "verify", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def entries(output: str, service: str) -> int:
    found = re.search(rf"^{service}\s+OK, (\d+) entries", output, re.M)
    assert found, output
    return int(found.group(1))


def edit_sqlite_row(db: Path, seq: int) -> int:
    with sqlite3.connect(db) as conn:
        (row_id,) = conn.execute("SELECT id FROM audit_log WHERE seq = ?", (seq,)).fetchone()
        conn.execute("UPDATE audit_log SET reason = 'nothing happened' WHERE id = ?", (row_id,))
    return int(row_id)


def edit_postgres_row(schema: str, seq: int) -> int:
    async def edit() -> int:
        engine = create_async_engine(asyncpg_url())
        try:
            async with engine.begin() as conn:
                updated = await conn.execute(
                    text(
                        f"UPDATE \"{schema}\".audit_log SET reason = 'nothing happened' WHERE seq = :seq RETURNING id"
                    ),
                    {"seq": seq},
                )
                return int(updated.scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(edit())


def test_an_edited_audit_row_fails_verify_and_is_named(backend: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "hub"
    prefix = f"audit_{uuid.uuid4().hex[:8]}_"
    postgres = asyncpg_url() if backend == "postgres" else None
    where = ["--postgres", asyncpg_url(), "--schema-prefix", prefix] if postgres else ["--data-dir", str(data_dir)]
    try:
        with running_hub(data_dir, postgres=postgres, schema_prefix=prefix) as hub:
            api = Api(hub)
            try:
                api.node("KEMEN", "instansi")
                key = api.key("KEMEN")
                api.ok(
                    api.client.post(
                        "/api/v1/hub/routing-rules",
                        json={"agency_code": "KEMEN", "category": "pemasyarakatan"},
                        headers=api.admin,
                    ),
                    201,
                )
                tid = api.submit()["tracking_id"]
                wait_for(lambda: tid in api.inbox(key))
                api.ok(api.client.post(f"/api/v1/agency/complaints/{tid}/acknowledge", headers=key), 200)
                wait_for(
                    lambda: (
                        api.ok(api.client.get(f"/api/v1/hub/complaints/{tid}", headers=api.admin), 200)["status"]
                        == "in_progress"
                    )
                )
                live = simpul_audit_verify(*where)  # a running hub is read as one snapshot
                assert live.returncode == 0, live.stdout + live.stderr
            finally:
                api.client.close()

        verified = simpul_audit_verify(*where, "--progress-every", "2")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        # the default category tree and the email door's channel key (issued on first start), then node, key, rule,
        # the disposition and the acknowledgement's transition; the agency's acknowledgement
        assert entries(verified.stdout, "routing") == len(load_tree(DEFAULT_TREE)) + 1 + 5
        assert entries(verified.stdout, "agency") == 1
        assert entries(verified.stdout, "intake") == 0 and entries(verified.stdout, "notify") == 0
        assert re.search(r"^routing\s+\.\.\. 4 entries checked$", verified.stdout, re.M), verified.stdout
        assert "Siti" not in verified.stdout

        row_id = edit_postgres_row(f"{prefix}routing", 2) if postgres else edit_sqlite_row(data_dir / "routing.db", 2)
        tampered = simpul_audit_verify(*where)
        assert tampered.returncode == 1, tampered.stdout + tampered.stderr
        assert re.search(
            rf"^routing\s+BROKEN at seq 2, row id {row_id}: the stored hash does not match", tampered.stdout, re.M
        ), tampered.stdout
        assert entries(tampered.stdout, "agency") == 1, "the other services' trails still hold"

        only_agency = simpul_audit_verify(*where, "--service", "agency")
        assert only_agency.returncode == 0 and "routing" not in only_agency.stdout, only_agency.stdout
    finally:
        if postgres:
            drop_schemas(prefix)
