"""Fixtures every test may use: a real nats-server from the wheel, real databases, a real clamd."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.natsd import NatsServer
from tests.support.apps import create_buckets
from tests.support.clamd import RunningClamd, start_clamd
from tests.support.databases import TestDatabase, backends, fresh_database

os.environ.setdefault("SIMPUL_LOG_JSON", "false")


@pytest.fixture
async def natsd(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NatsServer]:
    """A fresh nats-server from the wheel for each test (about 0.1 s), so no test sees another's events; with the
    files' buckets, as `ops` makes them."""
    server = NatsServer(data_dir=tmp_path_factory.mktemp("nats"))
    server.start()
    try:
        await create_buckets(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(params=backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database(backend: str, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    async with fresh_database(backend, tmp_path) as db:
        yield db


@pytest.fixture(scope="module")
def clamd_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningClamd]:
    """A real clamd for the module (about 0.1 s to start), on a unix socket and a loopback TCP port; its database
    knows only the EICAR test file. Skips when clamd is not installed."""
    with start_clamd(tmp_path_factory.mktemp("clamd"), tcp=True) as daemon:
        yield daemon


@pytest.fixture(scope="module")
def clamd_socket(clamd_daemon: RunningClamd) -> Path:
    """The unix socket of the module's clamd."""
    return clamd_daemon.socket_path
