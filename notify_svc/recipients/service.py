"""Adding and removing coordinators (admins only), each recorded in the audit trail without the address; reading
every recipient, the directory's liaison officers included."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.models import KIT, Recipient, RecipientKind
from notify_svc.recipients import repository
from notify_svc.recipients.schemas import DIRECTORY_OWNS_LIAISONS, RecipientCreate, RecipientOut, RecipientPage
from shared import audit
from shared.errors import ApiError, not_found
from shared.http.paging import Page


async def add(session: AsyncSession, body: RecipientCreate, *, actor: str, now: datetime) -> RecipientOut:
    scope = body.scope()
    taken = await session.execute(select(Recipient.id).where(Recipient.scope == scope, Recipient.email == body.email))
    if taken.first() is not None:
        raise ApiError(409, "recipient_exists", f"this address is already registered for {scope}")
    recipient = Recipient(
        id=str(uuid.uuid4()),
        role=body.role,
        node_code=None,
        level=body.level,
        scope=scope,
        name=body.name,
        email=body.email,
        timezone=body.timezone,
        language=body.language,
        is_system=body.is_system,
        created_at=now,
    )
    session.add(recipient)
    await _audit(session, "recipient.add", recipient, actor=actor, now=now, details=body.audit_details())
    return RecipientOut.model_validate(recipient)


async def remove(session: AsyncSession, recipient_id: str, *, actor: str, now: datetime) -> None:
    recipient = await session.get(Recipient, recipient_id)
    if recipient is None:
        raise not_found("recipient")
    if recipient.role == RecipientKind.liaison.value:
        raise ApiError(409, "recipient_from_directory", DIRECTORY_OWNS_LIAISONS)
    details: dict[str, object] = {"role": recipient.role, "scope": recipient.scope}
    await _audit(session, "recipient.remove", recipient, actor=actor, now=now, details=details)
    await session.delete(recipient)


async def one(session: AsyncSession, recipient_id: str) -> RecipientOut:
    recipient = await session.get(Recipient, recipient_id)
    if recipient is None:
        raise not_found("recipient")
    return RecipientOut.model_validate(recipient)


async def listing(
    session: AsyncSession, *, role: str | None, node_code: str | None, level: int | None, page: Page
) -> RecipientPage:
    rows = await repository.page(session, role=role, node_code=node_code, level=level, page=page)
    return RecipientPage(
        items=[RecipientOut.model_validate(r) for r in rows[: page.limit]],
        next_offset=page.next_offset(len(rows)),
    )


async def _audit(
    session: AsyncSession, action: str, recipient: Recipient, *, actor: str, now: datetime, details: dict[str, object]
) -> None:
    await audit.record(
        session,
        KIT,
        audit.Entry(
            actor=actor,
            action=action,
            target_type=audit.Target.recipient,
            target_id=recipient.id,
            at=now,
            details=details,
        ),
    )
