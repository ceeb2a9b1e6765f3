"""What became of a burst, read from the outside: routing's history, the agency's inbox and notify's mail folder.

Per accepted tracking id the hub owes exactly one disposition, exactly one place in the agency's inbox, and exactly
one message per expected template. Per submission (its title) it owes exactly one case, however often the client
had to send it. Anything missing is lost; anything more is a duplicate.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.domain import STATUS_LABELS
from tests.chaos.burst import Burst
from tests.e2e.hub import Api

SUBJECT = re.compile(r"^\[Simpul\] Laporan (?P<tid>\S+): (?P<what>.+)$")
LABEL_TO_STATUS = {label: status.value for status, label in STATUS_LABELS.items()}
EXPECTED_TEMPLATES = ("status_changed:dispositioned",)
"""What a reporter hears about a complaint that is routed straight to its agency."""


class MailFolder:
    """notify's `.eml` files, one per notification (a resend after a crash rewrites the same file)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._read: dict[str, tuple[str, str]] = {}

    def scan(self) -> Counter[tuple[str, str]]:
        """How many notifications each (tracking id, template) has."""
        for path in self.folder.glob("*.eml") if self.folder.exists() else ():
            if path.name not in self._read:
                self._read[path.name] = _template_of(path)
        return Counter(self._read.values())


def _template_of(path: Path) -> tuple[str, str]:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    subject = " ".join(str(msg["Subject"] or "").split())
    m = SUBJECT.match(subject)
    if m is None:
        return ("?", subject)
    what = m["what"]
    if what in LABEL_TO_STATUS:
        return (m["tid"], f"status_changed:{LABEL_TO_STATUS[what]}")
    if what.startswith("tindak lanjut"):
        return (m["tid"], "followup_posted")
    return (m["tid"], f"other:{what}")


def inbox_items(api: Api, key: dict[str, str]) -> list[tuple[str, str]]:
    """(tracking id, title) of every case in a node's inbox, every page."""
    items: list[tuple[str, str]] = []
    offset: int | None = 0
    while offset is not None:
        page = api.ok(api.client.get(f"/api/v1/agency/complaints?limit=200&offset={offset}", headers=key), 200)
        items += [(c["tracking_id"], c["title"]) for c in page["items"]]
        offset = page["next_offset"]
    return items


def wait_converged(api: Api, key: dict[str, str], burst: Burst, mail: MailFolder, timeout: float) -> float | None:
    """The moment every accepted complaint is in the inbox and has its messages; None if not within `timeout`."""
    accepted = set(burst.accepted)
    deadline = time.monotonic() + timeout
    while True:
        inbox = {tid for tid, _ in inbox_items(api, key)}
        mailed = Counter(tid for tid, template in mail.scan() if template in EXPECTED_TEMPLATES)
        if accepted <= inbox and all(mailed[tid] >= len(EXPECTED_TEMPLATES) for tid in accepted):
            return time.monotonic()
        if time.monotonic() > deadline:
            return None
        time.sleep(0.2)


@dataclass
class Ledger:
    sent: int
    accepted: int
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)


def take_ledger(api: Api, key: dict[str, str], burst: Burst, mail: MailFolder) -> Ledger:
    accepted = burst.accepted
    ledger = Ledger(sent=len(burst.submissions), accepted=len(accepted))
    items = inbox_items(api, key)
    in_inbox = Counter(tid for tid, _ in items)
    per_title = Counter(title for _, title in items)
    mails = mail.scan()
    dispositions = asyncio.run(_dispositions(api, list(accepted)))
    for tid, s in accepted.items():
        missing = [
            what
            for what, seen in (
                ("disposition", dispositions[tid]),
                ("inbox", in_inbox[tid]),
                *((f"mail {t}", mails[(tid, t)]) for t in EXPECTED_TEMPLATES),
            )
            if seen == 0
        ]
        doubled = [
            f"{what} x{seen}"
            for what, seen in (
                ("disposition", dispositions[tid]),
                ("inbox", in_inbox[tid]),
                ("case per submission", per_title[s.title]),
                *((f"mail {t}", mails[(tid, t)]) for t in EXPECTED_TEMPLATES),
            )
            if seen > 1
        ]
        if missing:
            ledger.lost.append(f"{tid} (#{s.index}): no {', '.join(missing)}")
        if doubled:
            ledger.duplicated.append(f"{tid} (#{s.index}): {', '.join(doubled)}")
    unexpected = sorted({t for (tid, t) in mails if tid in accepted and t not in EXPECTED_TEMPLATES})
    if unexpected:
        ledger.duplicated.append(f"messages nobody was owed: {unexpected}")
    return ledger


async def _dispositions(api: Api, tracking_ids: list[str]) -> Counter[str]:
    """How many times routing's history says each case was dispositioned."""
    found: Counter[str] = Counter()
    gate = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=str(api.client.base_url), timeout=30, headers=api.admin) as client:

        async def one(tid: str) -> None:
            async with gate:
                r = await client.get(f"/api/v1/hub/complaints/{tid}")
                assert r.status_code == 200, f"{tid}: {r.status_code} {r.text[:200]}"
                found[tid] = sum(1 for h in r.json()["history"] if h["to_status"] == "dispositioned")

        await asyncio.gather(*(one(t) for t in tracking_ids))
    return found
