"""Guessing receipts: failures are counted per client, and past the limit even the right receipt waits for that client.

Never per case: a receipt has 160 bits, and a per-case count would let anyone who knows a tracking id lock its reporter
out.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from intake_svc.settings import IntakeSettings
from tests.intake_svc.conftest import Intake, limited_intake
from tests.support.clock import ManualClock
from tests.support.databases import TestDatabase

WINDOW = 60
LOCKED = {"error": {"code": "rate_limited", "message": "too many failed receipt checks; retry later"}}


def xff(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def read(intake: Intake, tid: str, receipt: str | None, client: str) -> httpx.Response:
    headers = xff(client) | ({"X-Receipt": receipt} if receipt is not None else {})
    return await intake.client.get(f"/api/v1/complaints/{tid}", headers=headers)


def assert_locked(r: httpx.Response, retry_after: int = WINDOW) -> None:
    assert r.status_code == 429, r.text
    assert r.json() == LOCKED
    assert r.headers["Retry-After"] == str(retry_after)


async def test_a_client_that_keeps_guessing_is_locked_out_even_with_the_right_receipt(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    clock = ManualClock()
    async with limited_intake(
        database,
        natsd,
        tmp_path,
        clock=clock,
        receipt_failures_per_client=3,
        receipt_failure_window_s=WINDOW,
    ) as intake:
        case = await intake.submit()
        tid, receipt = case["tracking_id"], case["receipt"]
        guesser = "198.51.100.66"
        # Below the limit, a wrong receipt, a missing one and an unknown case are the same 404, byte for byte.
        misses = [
            await read(intake, tid, "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH", guesser),
            await read(intake, "SPL-0000000000", receipt, guesser),
        ]
        clock.advance(timedelta(seconds=20))
        misses.append(await read(intake, tid, None, guesser))
        assert {r.status_code for r in misses} == {404}
        assert len({r.content for r in misses}) == 1
        assert {r.headers.get("Retry-After") for r in misses} == {None}

        # The third miss started a lockout of a whole window: the right receipt, and unknown cases, wait too.
        assert_locked(await read(intake, tid, receipt, guesser))
        assert_locked(await read(intake, "SPL-0000000000", receipt, guesser))
        r = await intake.client.post(
            f"/api/v1/complaints/{tid}/messages", json={"content": "x"}, headers=xff(guesser) | {"X-Receipt": receipt}
        )
        assert_locked(r)
        r = await intake.client.post(
            f"/api/v1/complaints/{tid}/rating", json={"score": 5}, headers=xff(guesser) | {"X-Receipt": receipt}
        )
        assert_locked(r)

        # Another client with the right receipt is not blocked: the case itself is far from its own limit.
        assert (await read(intake, tid, receipt, "198.51.100.77")).status_code == 200

        clock.advance(timedelta(seconds=WINDOW - 1))
        assert_locked(await read(intake, tid, receipt, guesser), retry_after=1)
        clock.advance(timedelta(seconds=1))
        assert (await read(intake, tid, receipt, guesser)).status_code == 200


async def test_wrong_receipts_from_many_clients_do_not_lock_the_reporter_out(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    clock = ManualClock()
    async with limited_intake(
        database, natsd, tmp_path, clock=clock, receipt_failures_per_client=3, receipt_failure_window_s=WINDOW
    ) as intake:
        target = await intake.submit()
        tid, receipt = target["tracking_id"], target["receipt"]
        # 40 clients, two wrong receipts each: 80 failures against one case, none of them locked yet.
        for i in range(40):
            for j in range(2):
                assert (await read(intake, tid, f"WRONG-{i}-{j}", f"198.51.100.{i}")).status_code == 404
        # Exempt clients (the machine itself here) are not counted at all.
        for i in range(20):
            r = await intake.client.get(f"/api/v1/complaints/{tid}", headers={"X-Receipt": f"WRONG-{i}"})
            assert r.status_code == 404, r.text
        # The reporter, from a fresh client, opens the case; so do the guessers with the right receipt.
        assert (await read(intake, tid, receipt, "203.0.113.7")).status_code == 200
        assert (await read(intake, tid, receipt, "198.51.100.0")).status_code == 200
        r = await intake.client.post(
            f"/api/v1/complaints/{tid}/messages",
            json={"content": "masih menunggu"},
            headers=xff("203.0.113.7") | {"X-Receipt": receipt},
        )
        assert r.status_code == 201, r.text
        # A client that keeps guessing is itself locked, right receipt or not; the reporter is not.
        assert (await read(intake, tid, "WRONG-again", "198.51.100.0")).status_code == 404
        assert_locked(await read(intake, tid, receipt, "198.51.100.0"))
        assert (await read(intake, tid, receipt, "203.0.113.7")).status_code == 200


async def test_a_lockout_does_not_tell_a_real_case_from_an_unknown_one(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    async with limited_intake(
        database,
        natsd,
        tmp_path,
        clock=ManualClock(),
        receipt_failures_per_client=2,
        receipt_failure_window_s=WINDOW,
    ) as intake:
        real = (await intake.submit())["tracking_id"]
        answers = {}
        for n, tid in enumerate((real, "SPL-0000000000")):
            guesser = f"198.51.100.{n}"
            for _ in range(2):
                assert (await read(intake, tid, "WRONG", guesser)).status_code == 404
            answers[tid] = await read(intake, tid, "WRONG", guesser)
        assert {r.status_code for r in answers.values()} == {429}
        assert len({(r.content, r.headers["Retry-After"]) for r in answers.values()}) == 1


async def test_successes_do_not_launder_failures(database: TestDatabase, natsd: Any, tmp_path: Path) -> None:
    async with limited_intake(
        database,
        natsd,
        tmp_path,
        clock=ManualClock(),
        receipt_failures_per_client=3,
        receipt_failure_window_s=WINDOW,
    ) as intake:
        own = await intake.submit()
        guesser = "198.51.100.66"
        for i in range(2):
            assert (await read(intake, "SPL-0000000000", f"GUESS-{i}", guesser)).status_code == 404
            assert (await read(intake, own["tracking_id"], own["receipt"], guesser)).status_code == 200
        assert (await read(intake, "SPL-0000000000", "GUESS-2", guesser)).status_code == 404
        assert_locked(await read(intake, own["tracking_id"], own["receipt"], guesser))


async def test_the_receipt_lockout_switches_off(database: TestDatabase, natsd: Any, tmp_path: Path) -> None:
    async with limited_intake(
        database,
        natsd,
        tmp_path,
        clock=ManualClock(),
        receipt_failures_per_client=0,
    ) as intake:
        case = await intake.submit()
        for i in range(20):
            assert (await read(intake, case["tracking_id"], f"GUESS-{i}", "198.51.100.66")).status_code == 404
        assert (await read(intake, case["tracking_id"], case["receipt"], "198.51.100.66")).status_code == 200


def test_a_stale_per_case_setting_does_not_stop_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMPUL_INTAKE_RECEIPT_FAILURES_PER_CASE", "30")
    assert not hasattr(IntakeSettings(), "receipt_failures_per_case")
