"""The daily limit per reporter destination: at most so many SMS to one phone number, and emails to one address, a
day. It guards against SMS pumping (a form used to send paid messages to numbers an attacker profits from) and mail
bombing, whichever path the messages take (confirmations, status changes, reminders).

Counted in the database, so it holds across notify replicas: one conditional UPDATE (or the day's first INSERT) per
message, atomic in either dialect. The key is an HMAC of the channel and the address under a key derived from the
service's encryption key, never the plain number or address.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from notify_svc.models import Base, DestinationCount, NotifyChannel
from notify_svc.settings import NotifySettings
from shared.crypto import keyed_hash
from shared.db.dialect import dialect_of, insert_ignore
from shared.db.results import rows_affected

_COUNTS = Base.metadata.tables[DestinationCount.__tablename__]

DAILY_LIMIT = "daily_limit"
"""The reason a notification skipped by this limit carries."""


class DailyLimit:
    def __init__(self, settings: NotifySettings):
        self.per_day = {
            NotifyChannel.sms: settings.reporter_sms_per_day,
            NotifyChannel.email: settings.reporter_emails_per_day,
        }
        ring = settings.encryption_key_list()
        self._key = hashlib.sha256(b"simpul destination count\0" + ring[0].encode()).digest()

    def destination_hash(self, channel: NotifyChannel, to: str) -> str:
        return keyed_hash(self._key, f"{channel.value}:{to.strip().lower()}")

    async def admit(self, session: AsyncSession, channel: NotifyChannel, to: str, day: date) -> bool:
        """Counts one message to `to` on `day`; False (nothing counted) when the day's limit is already reached."""
        limit = self.per_day.get(channel, 0)
        if limit <= 0:
            return True
        key = self.destination_hash(channel, to)
        if await self._increment(session, key, day, limit):
            return True
        first = insert_ignore(dialect_of(session), _COUNTS).values(destination_hash=key, day=day, sent=1)
        if rows_affected(await session.execute(first)) == 1:
            await session.execute(delete(DestinationCount).where(DestinationCount.day < day - timedelta(days=1)))
            return True
        return await self._increment(session, key, day, limit)  # another sender inserted the day's row meanwhile

    async def _increment(self, session: AsyncSession, key: str, day: date, limit: int) -> bool:
        c = DestinationCount
        stmt = (
            update(c)
            .where(c.destination_hash == key, c.day == day, c.sent < limit)
            .values(sent=c.sent + 1)
            .execution_options(synchronize_session=False)
        )
        return rows_affected(await session.execute(stmt)) == 1
