"""The chaos suite: each fault injected into a real hub during a burst of submissions; nothing lost, nothing doubled.

Per accepted complaint: exactly one disposition in routing's history, exactly one place in the agency's inbox,
exactly one message per template it is owed; per submission, exactly one complaint, however often the client had
to send it. The burst's size is SIMPUL_CHAOS_BURST; `make chaos` sends more and writes docs/reliability.md.
"""

from __future__ import annotations

import os

import pytest

from tests.chaos.conftest import ChaosResults
from tests.chaos.faults import FAULTS, Fault
from tests.chaos.hubs import ChaosHub, burst_concurrency, burst_size
from tests.chaos.postgres import unavailable_reason
from tests.chaos.runner import run_fault

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

BOUNDED = {
    "sqlite": {"kill-intake", "kill-all", "sigterm-each", "nats-restart", "relay-kill"},
    "postgres": {"kill-all", "postgres-restart"},
}
"""What `make test` runs of each backend; SIMPUL_CHAOS_FULL=1 (as `make chaos` sets) runs every fault on each."""


def skip_reason(fault: Fault, backend: str) -> str | None:
    """Why this fault does not run on this backend here (decided at collection, before any hub starts)."""
    if fault.needs_private_postgres and backend != "postgres":
        return "stops PostgreSQL: runs on the PostgreSQL hub (SIMPUL_TEST_POSTGRES_URL set)"
    if fault.needs_private_postgres and unavailable_reason() is not None:
        return f"needs a private PostgreSQL to stop, and there can be none here: {unavailable_reason()}"
    if fault.name not in BOUNDED.get(backend, set()) and not os.environ.get("SIMPUL_CHAOS_FULL"):
        return "not in the bounded suite on this backend; SIMPUL_CHAOS_FULL=1 (make chaos) runs it"
    return None


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault_loses_and_duplicates_nothing(fault: Fault, chaos_hub: ChaosHub, chaos_results: ChaosResults) -> None:
    if fault.needs_private_postgres and chaos_hub.pg is None:
        pytest.skip("this PostgreSQL hub runs on SIMPUL_TEST_POSTGRES_URL (no private server could be made)")
    outcome = run_fault(chaos_hub, fault, burst_size(), burst_concurrency())
    chaos_results.record(outcome.record())
    print("\n" + outcome.summary())
    assert outcome.findings == [], outcome.findings[:10]
    assert outcome.recovered_s is not None, f"not converged: {outcome.lost[:10]}"
    assert outcome.accepted == outcome.sent
    assert outcome.lost == [], outcome.lost[:10]
    assert outcome.duplicated == [], outcome.duplicated[:10]
