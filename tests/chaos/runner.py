"""One fault, start to end: a fresh agency node, a burst aimed at it, the fault injected mid-burst, convergence
awaited, then the ledger taken."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from tests.chaos.burst import Burst
from tests.chaos.faults import Fault, FaultContext
from tests.chaos.hubs import ChaosHub
from tests.chaos.ledger import MailFolder, take_ledger, wait_converged
from tests.chaos.probes import wait_settled

CONVERGENCE_TIMEOUT_S = 150.0


@dataclass
class Outcome:
    fault: str
    label: str
    backend: str
    sent: int
    accepted: int
    lost: list[str]
    duplicated: list[str]
    recovered_s: float | None
    """From the fault's injection to the moment every accepted complaint had its disposition, inbox and mail."""
    answers: dict[str, int]
    retried: int
    replayed: int
    """Retries whose submission had in fact been stored: the Idempotency-Key gave back the first answer."""
    findings: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        recovered = f"{self.recovered_s:.1f}s" if self.recovered_s is not None else "never"
        return (
            f"{self.fault} [{self.backend}]: sent {self.sent}, accepted {self.accepted}, lost {len(self.lost)}, "
            f"duplicated {len(self.duplicated)}, recovered in {recovered}; answers {dict(self.answers)}, "
            f"retried {self.retried}, replayed {self.replayed}; {self.notes}"
        )


def run_fault(chaos: ChaosHub, fault: Fault, size: int, concurrency: int) -> Outcome:
    api = chaos.api
    code = f"CHAOS-{fault.name.upper()}-{uuid.uuid4().hex[:6].upper()}"
    api.node(code, "instansi")
    key = api.key(code)
    burst = Burst(base_url=chaos.hub.base_url, tag=code, agency_code=code, size=size, concurrency=concurrency)
    ctx = FaultContext(chaos, burst)
    asyncio.run(_burst_with_fault(ctx, fault))
    mail = MailFolder(chaos.hub.data_dir / "mail")
    converged_at = wait_converged(api, key, burst, mail, CONVERGENCE_TIMEOUT_S)
    if converged_at is not None:
        wait_settled(chaos.hub, timeout=60)
    ledger = take_ledger(api, key, burst, mail)
    return Outcome(
        fault=fault.name,
        label=fault.label,
        backend=chaos.backend,
        sent=ledger.sent,
        accepted=ledger.accepted,
        lost=ledger.lost,
        duplicated=ledger.duplicated,
        recovered_s=None if converged_at is None else round(converged_at - ctx.injected_at, 2),
        answers=dict(Counter(burst.answers)),
        retried=burst.retried(),
        replayed=sum(1 for s in burst.submissions if s.replayed),
        findings=burst.findings,
        notes=ctx.notes,
    )


async def _burst_with_fault(ctx: FaultContext, fault: Fault) -> None:
    run = asyncio.create_task(ctx.burst.run())
    try:
        await ctx.burst.wait_accepted(ctx.burst.size // 3)
        if run.done():
            raise AssertionError(f"the burst ended before the fault: {ctx.burst.findings[:5]}")
        await fault.inject(ctx)
    finally:
        await run
    assert ctx.injected_at, "the fault was never injected"
    ctx.notes["burst ran on for"] = round(time.monotonic() - ctx.injected_at, 1)
