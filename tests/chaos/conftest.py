"""Fixtures of the chaos suite: the hub it breaks (one per backend), a private PostgreSQL, and the results file."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.hubs import HUB_ENV, ChaosHub
from tests.chaos.postgres import PrivatePostgres, unavailable_reason
from tests.e2e.hub import Api, asyncpg_url, drop_schemas, running_hub
from tests.support.databases import backends

RESULTS_ENV = "SIMPUL_CHAOS_RESULTS"


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres | None]:
    """A PostgreSQL of the suite's own that a test may stop and start; None (and the reason printed) if there
    cannot be one here."""
    reason = unavailable_reason()
    if reason is not None:
        print(f"\nno private PostgreSQL: {reason}")
        yield None
        return
    server = PrivatePostgres.create()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="package", params=backends())
def chaos_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosHub]:
    data_dir = tmp_path_factory.mktemp("chaos-hub")
    if request.param == "sqlite":
        with running_hub(data_dir, env=HUB_ENV) as hub:
            api = Api(hub)
            yield ChaosHub(hub=hub, api=api, backend="sqlite")
            api.client.close()
        return
    # On PostgreSQL the hub runs on a private server, so that a fault may stop it; the machine's is never touched.
    pg: PrivatePostgres | None = request.getfixturevalue("private_postgres")
    url = pg.url() if pg is not None else asyncpg_url()
    prefix = f"chaos_{uuid.uuid4().hex[:8]}_"
    try:
        with running_hub(data_dir, postgres=url, schema_prefix=prefix, env=HUB_ENV) as hub:
            api = Api(hub)
            yield ChaosHub(hub=hub, api=api, backend="postgres", pg=pg, database_url=url, schema_prefix=prefix)
            api.client.close()
    finally:
        if pg is None:
            drop_schemas(prefix)


class ChaosResults:
    """Each fault's outcome, as a JSON line in the file named by SIMPUL_CHAOS_RESULTS (for docs/reliability.md)."""

    def __init__(self, path: Path | None):
        self.path = path

    def record(self, outcome: dict[str, Any]) -> None:
        if self.path is not None:
            with self.path.open("a") as f:
                f.write(json.dumps(outcome) + "\n")


@pytest.fixture(scope="session")
def chaos_results() -> ChaosResults:
    path = os.environ.get(RESULTS_ENV)
    return ChaosResults(Path(path) if path else None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip a fault that does not run on a backend before its hub is started for nothing."""
    from tests.chaos.test_faults import skip_reason

    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "fault" not in callspec.params or "chaos_hub" not in callspec.params:
            continue
        reason = skip_reason(callspec.params["fault"], callspec.params["chaos_hub"])
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
