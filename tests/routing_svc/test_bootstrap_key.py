"""The bootstrap admin key: refused when short, and revocable like any key, in every service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from agency_svc.settings import AgencySettings
from intake_svc.settings import IntakeSettings
from notify_svc.settings import NotifySettings
from routing_svc.settings import RoutingSettings
from services.secrets_store import load_or_create
from shared.settings import ServiceSettings
from tests.notify_svc.conftest import start_notify
from tests.routing_svc.conftest import Hub
from tests.support.apps import ADMIN_KEY, auth, eventually
from tests.support.databases import fresh_database

SHORT = "sk_admin_only-31-characters-xxx"


@pytest.mark.parametrize("settings_cls", [IntakeSettings, RoutingSettings, AgencySettings, NotifySettings])
def test_a_bootstrap_key_under_32_characters_is_refused_at_startup(settings_cls: type[ServiceSettings]) -> None:
    assert len(SHORT) == 31
    with pytest.raises(ValidationError, match="has 31 characters; it needs at least 32"):
        settings_cls(bootstrap_admin_key=SHORT)
    assert settings_cls(bootstrap_admin_key=SHORT + "y").bootstrap_admin_key is not None


@pytest.mark.parametrize("package", ["intake_svc", "routing_svc", "agency_svc", "notify_svc"])
def test_a_service_started_with_a_short_bootstrap_key_stops_with_a_clear_message(package: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    env["SIMPUL_BOOTSTRAP_ADMIN_KEY"] = SHORT
    result = subprocess.run(  # noqa: S603 - our own service
        [sys.executable, "-m", package], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "has 31 characters; it needs at least 32" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_simpul_up_refuses_a_short_bootstrap_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs at least 32"):
        load_or_create(tmp_path, ["intake"], "short")
    assert not (tmp_path / "secrets.json").exists()


async def test_the_bootstrap_key_is_revoked_in_every_service(
    hub: Hub, backend: str, natsd: Any, tmp_path: Path
) -> None:
    async with (
        fresh_database(backend, tmp_path, "notify") as notify_db,
        start_notify(notify_db, natsd, tmp_path) as notify,
    ):
        successor = await hub.ok("POST", "/api/v1/hub/api-keys", 201, json={"role": "admin", "label": "ops"})
        assert (await notify.client.get("/api/v1/notify/deliveries", headers=auth(ADMIN_KEY))).status_code == 200

        await hub.ok("DELETE", "/api/v1/hub/api-keys/bootstrap", 204)  # the bootstrap key revokes itself

        r = await hub.ok("GET", "/api/v1/hub/api-keys", 401)
        assert r["error"]["code"] == "unauthenticated"
        listed = await hub.ok("GET", "/api/v1/hub/api-keys?role=admin", 200, key=successor["key"])
        bootstrap = next(k for k in listed["items"] if k["prefix"] == "bootstrap")
        assert bootstrap["is_active"] is False and bootstrap["revoked_at"] is not None
        await hub.ok("DELETE", "/api/v1/hub/api-keys/bootstrap", 204, key=successor["key"])  # twice: no-op
        await hub.ok("DELETE", f"/api/v1/hub/api-keys/{bootstrap['key_id']}", 204, key=successor["key"])

        async def refused_in_notify() -> httpx.Response | None:
            r = await notify.client.get("/api/v1/notify/deliveries", headers=auth(ADMIN_KEY))
            return r if r.status_code == 401 else None

        await eventually(refused_in_notify)
        r = await notify.client.get("/api/v1/notify/deliveries", headers=auth(successor["key"]))
        assert r.status_code == 200, r.text

        issued = [e["data"] for e in await hub.events("simpul.auth.key_issued")]
        gone = [e["data"] for e in await hub.events("simpul.auth.key_revoked")]
        assert [e["key_id"] for e in gone] == [bootstrap["key_id"]]
        assert bootstrap["key_id"] in {e["key_id"] for e in issued} and ADMIN_KEY not in str(issued)
