"""A burst of submissions through the gateway, sent the way a careful client sends them.

Each submission has its own Idempotency-Key. An answer that leaves the outcome unknown (502, 503, 504, or the
connection lost) is retried with the same key and body, so a retry of a submission that was in fact stored
replays its first answer instead of storing it twice. Anything else that is not 201 is a finding.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRIED_STATUSES = frozenset({502, 503, 504})
SUBMISSION_DEADLINE_S = 180.0


@dataclass
class Submission:
    index: int
    key: str
    title: str
    email: str
    tracking_id: str | None = None
    attempts: int = 0
    replayed: bool = False
    accepted_at: float = 0.0


@dataclass
class Burst:
    base_url: str
    tag: str
    agency_code: str
    size: int
    concurrency: int
    submissions: list[Submission] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)
    """Every answer a request got: '201', '503', 'ReadError', ..."""
    findings: list[str] = field(default_factory=list)
    """Answers a careful client cannot act on: a 500, an unexpected 4xx, a submission never accepted."""
    _accepted: int = 0
    _waiters: list[tuple[int, asyncio.Event]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.submissions = [
            Submission(
                index=i,
                key=str(uuid.uuid4()),
                title=f"chaos {self.tag} #{i}",
                email=f"r{i}.{self.tag.lower()}@example.test",
            )
            for i in range(self.size)
        ]

    @property
    def accepted(self) -> dict[str, Submission]:
        return {s.tracking_id: s for s in self.submissions if s.tracking_id}

    @property
    def accepted_count(self) -> int:
        return self._accepted

    async def wait_accepted(self, count: int) -> None:
        """Until `count` submissions have been accepted (or the burst is over)."""
        if self._accepted >= count:
            return
        event = asyncio.Event()
        self._waiters.append((count, event))
        await event.wait()

    def body(self, s: Submission) -> dict[str, Any]:
        return {
            "title": s.title,
            "content": "Antrean layanan terlalu lama dan petugas meminta biaya tambahan.",
            "classification": "pengaduan",
            "category": "chaos",
            "agency_code": self.agency_code,
            "reporter": {"email": s.email},
        }

    async def run(self) -> None:
        gate = asyncio.Semaphore(self.concurrency)
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=60, limits=limits) as client:

            async def one(s: Submission) -> None:
                async with gate:
                    await self._submit(client, s)

            try:
                await asyncio.gather(*(one(s) for s in self.submissions))
            finally:
                for _, event in self._waiters:
                    event.set()

    async def _submit(self, client: httpx.AsyncClient, s: Submission) -> None:
        deadline = time.monotonic() + SUBMISSION_DEADLINE_S
        pause = 0.1
        while True:
            s.attempts += 1
            try:
                r = await client.post("/api/v1/complaints", json=self.body(s), headers={"Idempotency-Key": s.key})
            except httpx.TransportError as exc:
                self.answers[type(exc).__name__] += 1
            else:
                self.answers[str(r.status_code)] += 1
                if r.status_code == 201:
                    s.tracking_id = str(r.json()["tracking_id"])
                    s.replayed = r.headers.get("Idempotent-Replayed") == "true"
                    s.accepted_at = time.monotonic()
                    self._on_accepted()
                    return
                if r.status_code not in RETRIED_STATUSES:
                    self.findings.append(f"#{s.index}: {r.status_code} {r.text[:300]}")
                    return
                if "application/json" not in r.headers.get("content-type", ""):
                    self.findings.append(f"#{s.index}: {r.status_code} without a JSON body: {r.text[:200]}")
            if time.monotonic() > deadline:
                self.findings.append(f"#{s.index}: not accepted within {SUBMISSION_DEADLINE_S:.0f}s")
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)

    def _on_accepted(self) -> None:
        self._accepted += 1
        for count, event in self._waiters:
            if self._accepted >= count:
                event.set()

    def retried(self) -> int:
        """Requests that had to be sent again."""
        return sum(s.attempts - 1 for s in self.submissions)
