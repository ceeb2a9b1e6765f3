"""The submission hot path's database side: group commit through the kit's BatchWriter.

Everything a submission needs (ids, receipt hash, sealing, events, JSON) is prepared before it is queued;
`write_batch` only inserts, with one executemany per table for the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from intake_svc.models import KIT, Base, Complaint, Contact, IdempotencyKey, TimelineEntry
from shared.db.dialect import dialect_of, insert_ignore

_COMPLAINTS = Base.metadata.tables[Complaint.__tablename__]
_CONTACTS = Base.metadata.tables[Contact.__tablename__]
_IDEMPOTENCY = Base.metadata.tables[IdempotencyKey.__tablename__]
_TIMELINE = Base.metadata.tables[TimelineEntry.__tablename__]


@dataclass(frozen=True)
class PreparedSubmission:
    """One submission, ready to insert: a row per table, and its outbox rows."""

    tracking_id: str
    complaint: dict[str, Any]
    timeline: dict[str, Any]
    outbox: list[dict[str, Any]]
    contact: dict[str, Any] | None = None
    idempotency: dict[str, Any] | None = None


@dataclass(frozen=True)
class Created:
    """The submission was stored."""


@dataclass(frozen=True)
class Replayed:
    """The Idempotency-Key was seen with the same body: here is the first answer, sealed."""

    response_sealed: str = field(repr=False)


@dataclass(frozen=True)
class Mismatch:
    """The Idempotency-Key was seen with a different body."""


Outcome = Created | Replayed | Mismatch


async def write_batch(conn: AsyncConnection, items: list[PreparedSubmission]) -> list[Outcome]:
    """Insert a batch of submissions in the caller's transaction; one outcome per item, in order."""
    existing: dict[str, Any] = {}
    keyed = [i.idempotency for i in items if i.idempotency is not None]
    if keyed:
        # Claim each key; the first claimant wins (here or in an earlier batch), the others replay its answer.
        await conn.execute(insert_ignore(dialect_of(conn), _IDEMPOTENCY, ["key_hash"]), keyed)
        t = _IDEMPOTENCY.c
        found = await conn.execute(
            select(t.key_hash, t.tracking_id, t.request_hash, t.response_sealed).where(
                t.key_hash.in_({k["key_hash"] for k in keyed})
            )
        )
        existing = {row.key_hash: row for row in found}

    outcomes: list[Outcome] = []
    fresh: list[PreparedSubmission] = []
    for item in items:
        if item.idempotency is None:
            fresh.append(item)
            outcomes.append(Created())
            continue
        claim = existing.get(item.idempotency["key_hash"])
        if claim is None:  # purged between the claim and the read: let the batch retry
            raise RuntimeError("idempotency key vanished during its claim")
        if claim.tracking_id == item.tracking_id:
            fresh.append(item)
            outcomes.append(Created())
        elif claim.request_hash == item.idempotency["request_hash"]:
            outcomes.append(Replayed(claim.response_sealed))
        else:
            outcomes.append(Mismatch())

    if fresh:
        await conn.execute(insert(_COMPLAINTS), [i.complaint for i in fresh])
        contacts = [i.contact for i in fresh if i.contact is not None]
        if contacts:
            await conn.execute(insert(_CONTACTS), contacts)
        await conn.execute(insert(_TIMELINE), [i.timeline for i in fresh])
        await conn.execute(insert(KIT.outbox), [row for i in fresh for row in i.outbox])
    return outcomes
