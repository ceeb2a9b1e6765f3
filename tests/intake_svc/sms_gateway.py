"""An SMS gateway as intake's SMS door sees it: signed calls with a channel key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shared.domain import Role
from shared.signing import signature
from tests.intake_svc.conftest import Intake, issue_key, limited_intake
from tests.support.clock import ManualClock
from tests.support.databases import TestDatabase

SECRET = "sms-gateway-secret-for-tests-0123456789"
INBOUND = "/api/v1/channels/sms/inbound"
KEYWORDS = "JALAN=infrastruktur.jalan, Sekolah=pendidikan"
NUMBER = "+6281200001111"


@dataclass
class Gateway:
    intake: Intake
    key: str
    clock: ManualClock
    sent: int = 0

    async def post(
        self,
        body: dict[str, Any] | None = None,
        *,
        raw: bytes | None = None,
        secret: str = SECRET,
        at: int | None = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A call as the gateway signs it (at the intake's clock unless `at` says otherwise)."""
        data = raw if raw is not None else json.dumps(body).encode()
        timestamp = int(self.clock.now().timestamp()) if at is None else at
        sent = {
            "Authorization": f"Bearer {key or self.key}",
            "Content-Type": "application/json",
            "Simpul-Signature": signature(secret, timestamp, data),
            **(headers or {}),
        }
        return await self.intake.client.post(INBOUND, content=data, headers=sent)

    async def sms(self, text: str, *, sender: str = NUMBER, message_id: str | None = None) -> httpx.Response:
        """A new SMS (its own message id unless given)."""
        self.sent += 1
        return await self.post({"from": sender, "text": text, "message_id": message_id or f"m-{self.sent}"})


@asynccontextmanager
async def sms_door(database: TestDatabase, natsd: Any, tmp_path: Path, **overrides: Any) -> AsyncIterator[Gateway]:
    """intake with its SMS door configured, a clock the test moves, and a channel key."""
    clock = ManualClock()
    settings = {"sms_signing_secret": SECRET, "sms_keywords": KEYWORDS, **overrides}
    async with limited_intake(database, natsd, tmp_path, clock=clock, **settings) as intake:
        yield Gateway(intake=intake, key=await issue_key(intake, Role.channel), clock=clock)
