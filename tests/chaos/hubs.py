"""The hub the chaos suite breaks: `simpul up` as real processes, on SQLite or on a private PostgreSQL."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.chaos.postgres import PrivatePostgres
from tests.e2e.hub import Api, Hub

HUB_ENV = {
    # intake's relay publishes a few events a round (default 500), so that a backlog drains in many rounds and the
    # relay can be killed between them (see the relay fault).
    "SIMPUL_INTAKE_RELAY_BATCH": "5",
    # A notification that notify had claimed when it was killed waits out this lease before it is sent (default
    # 300 s): the notify fault's time to recover is bounded by it.
    "SIMPUL_NOTIFY_SEND_LEASE_SECONDS": "10",
}


def burst_size() -> int:
    """Submissions per fault: SIMPUL_CHAOS_BURST (small by default; `make chaos` sends more)."""
    return int(os.environ.get("SIMPUL_CHAOS_BURST", "40"))


def burst_concurrency() -> int:
    return int(os.environ.get("SIMPUL_CHAOS_CONCURRENCY", "8"))


@dataclass
class ChaosHub:
    hub: Hub
    api: Api
    backend: str
    pg: PrivatePostgres | None = None
    """The private PostgreSQL the hub runs on, which a fault may stop (None on SQLite)."""
    database_url: str | None = None
    schema_prefix: str = ""

    def service_database(self, service: str) -> tuple[str, str | None]:
        """(URL, schema) of a service's database."""
        if self.database_url is None:
            return f"sqlite+aiosqlite:///{Path(self.hub.data_dir).resolve() / (service + '.db')}", None
        return self.database_url, f"{self.schema_prefix}{service}"

    def engine(self, service: str) -> AsyncEngine:
        url, schema = self.service_database(service)
        args = {"server_settings": {"search_path": schema}} if schema else {}
        return create_async_engine(url, connect_args=args, pool_size=1, max_overflow=0)


async def unpublished(engine: AsyncEngine) -> int:
    """Rows of a service's outbox that its relay has not yet marked published."""
    async with engine.connect() as conn:
        n = (await conn.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))).scalar()
    return int(n or 0)
