"""Telling "the database is not there right now" apart from every other database error."""

from __future__ import annotations

import errno
import socket

from sqlalchemy import exc as sa_exc

UNAVAILABLE_SQLSTATES = ("08", "53", "57P")
"""PostgreSQL's classes for a connection failure (08), insufficient resources such as too many connections (53),
and a server shutting down, crashed or starting up (57P01-57P04, 'cannot connect now')."""
UNREACHABLE_ERRNOS = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ETIMEDOUT})
"""A host that is gone from the network: a database container stopped, a node rebooting."""


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached or is stopping or starting, so a retry may succeed.

    asyncpg's errors for a server that is shutting down or starting up reach SQLAlchemy as a plain DBAPIError,
    not an OperationalError; their SQLSTATE tells them apart.
    """
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.DisconnectionError):
        return True
    if isinstance(exc, OSError):
        # asyncpg lets a failed connect's own error through: a name that no longer resolves (Docker's DNS drops a
        # stopped container's name), or a host that cannot be reached.
        return isinstance(exc, socket.gaierror | ConnectionError) or exc.errno in UNREACHABLE_ERRNOS
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return isinstance(state, str) and state.startswith(UNAVAILABLE_SQLSTATES)
    return False
