"""Which database errors mean "not there right now" (503, and a consumer batch that waits) and which do not."""

from __future__ import annotations

import errno
import socket

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from shared.bus.consumer import infra_failure
from shared.db.availability import database_unavailable


def _wrapped(orig: BaseException, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError("SELECT 1", {}, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    "orig",
    [
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.exceptions.ConnectionFailureError("connection failure"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_server_stopping_starting_or_full_is_unavailable(orig: BaseException) -> None:
    assert database_unavailable(_wrapped(orig))
    assert infra_failure(_wrapped(orig))


@pytest.mark.parametrize(
    "exc",
    [
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        OSError(errno.EHOSTUNREACH, "No route to host"),
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
    ],
    ids=lambda e: type(e).__name__ + str(e.errno),
)
def test_a_database_host_that_does_not_resolve_or_answer_is_unavailable(exc: OSError) -> None:
    assert database_unavailable(exc)
    assert infra_failure(exc)


def test_other_os_errors_are_not_the_database_being_away() -> None:
    assert not database_unavailable(PermissionError(errno.EACCES, "Permission denied"))
    assert not database_unavailable(OSError(errno.ENOSPC, "No space left on device"))


def test_a_dropped_connection_is_unavailable() -> None:
    assert database_unavailable(_wrapped(RuntimeError("connection was closed"), invalidated=True))


@pytest.mark.parametrize(
    "orig",
    [
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.UndefinedTableError("relation does not exist"),
        asyncpg.exceptions.DivisionByZeroError("division by zero"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_an_error_in_the_request_or_the_code_is_not(orig: BaseException) -> None:
    assert not database_unavailable(_wrapped(orig))
    assert not infra_failure(_wrapped(orig))
    assert not database_unavailable(ValueError("not a database error"))
