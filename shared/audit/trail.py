"""Writing the audit trail: one row per privileged action or case transition, in the caller's transaction.

`record` inserts the entry unlinked. When the caller's outermost transaction commits, `before_commit` takes the
one-row head (`SELECT ... FOR UPDATE`; SQLite writers are already serialized by BEGIN IMMEDIATE), links this
transaction's entries after it (seq, prev_hash, hash) and moves the head, so concurrent writers (replicas, a consumer
batch and an API request) queue at the head and cannot fork the chain. The head is the last lock a writer takes and
is held only for its commit. An entry recorded in a savepoint that rolls back disappears with it. Nothing here
commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from shared.audit.chain import GENESIS, entry_hash
from shared.audit.chain import details_text as _details_text
from shared.db.dialect import insert_ignore
from shared.db.kit_tables import KitTables

HEAD_ID = 1
_TABLES_KEY = "audit_tables"


class Target(StrEnum):
    """What an entry is about; `target_id` names it (tracking id, node or category code, key, rule, policy,
    recipient or webhook id). Stored as text (`audit_log.target_type`, VARCHAR(32), no constraint): a new type needs
    no migration."""

    case = "case"
    node = "node"
    category = "category"
    key = "key"
    rule = "rule"
    policy = "policy"
    recipient = "recipient"
    webhook = "webhook"


@dataclass(frozen=True)
class Entry:
    """One line of the trail: who (`actor`) did what (`action`) to which target, when (`at`), and why.

    Never put a reporter's name or contact details in `reason` or `details`.
    """

    actor: str
    action: str
    target_type: Target
    target_id: str
    at: datetime
    reason: str | None = None
    details: dict[str, Any] | None = None


async def record(session: AsyncSession, kit: KitTables, entry: Entry) -> None:
    """Add `entry` to the caller's transaction; it joins the chain when that transaction commits."""
    sync_session = session.sync_session
    sync_session.info[_TABLES_KEY] = kit
    if not event.contains(sync_session, "before_commit", _link_pending):
        event.listen(sync_session, "before_commit", _link_pending)
    await session.execute(
        insert(kit.audit_log).values(
            at=entry.at,
            actor=entry.actor[:200],
            action=entry.action,
            target_type=entry.target_type.value,
            target_id=entry.target_id[:64],
            reason=entry.reason,
            details=_details_text(entry.details),
        )
    )


def _link_pending(session: Session) -> None:
    """before_commit: link the unlinked entries into the chain, under the head's row lock."""
    if session.in_nested_transaction():  # a savepoint being released: the outermost commit links
        return
    kit: KitTables | None = session.info.get(_TABLES_KEY)
    if kit is None:
        return
    log, head = kit.audit_log, kit.audit_head
    if session.execute(select(log.c.id).where(log.c.seq.is_(None)).limit(1)).first() is None:
        return
    locked = select(head.c.seq, head.c.hash).where(head.c.id == HEAD_ID).with_for_update()
    top = session.execute(locked).first()
    if top is None:
        dialect = session.get_bind().dialect.name
        session.execute(insert_ignore(dialect, head).values(id=HEAD_ID, seq=0, hash=GENESIS))
        top = session.execute(locked).one()
    seq, prev = int(top.seq), str(top.hash)
    # Read after taking the lock: entries another writer linked meanwhile are no longer NULL.
    pending = session.execute(select(log).where(log.c.seq.is_(None)).order_by(log.c.id)).all()
    links: list[dict[str, Any]] = []
    for row in pending:
        seq += 1
        digest = entry_hash(prev, {**row._mapping, "seq": seq})
        links.append({"row_id": row.id, "new_seq": seq, "new_prev": prev, "new_hash": digest})
        prev = digest
    if links:
        link = (
            update(log)
            .where(log.c.id == bindparam("row_id"))
            .values(seq=bindparam("new_seq"), prev_hash=bindparam("new_prev"), hash=bindparam("new_hash"))
        )
        session.execute(link, links)
    session.execute(update(head).where(head.c.id == HEAD_ID).values(seq=seq, hash=prev))
