"""FastAPI dependencies: who is calling, and may they."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth.keys import Principal
from shared.crypto import key_prefix
from shared.domain import Role
from shared.errors import ApiError
from shared.http.client_address import client_key, request_client
from shared.http.ratelimit import too_many_requests
from shared.logging import get_logger

if TYPE_CHECKING:
    from shared.runtime import Runtime

log = get_logger(__name__)

TOO_MANY_FAILED_KEYS = "too many wrong API keys from this client; retry later"

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "unauthenticated", "an API key is required: Authorization: Bearer <key>")
    runtime: Runtime[Any] = request.app.state.runtime
    client = client_key(request_client(request, runtime.trusted_proxies).address)
    wait = runtime.auth_failures.locked(client)
    if wait is not None:
        raise too_many_requests(wait, TOO_MANY_FAILED_KEYS)
    key = credentials.credentials
    async with runtime.db.session() as session:
        principal = await runtime.keystore.authenticate(session, key)
        # A revoked or expired key is no guess (an agency system not yet given its new key): it is refused, but not
        # counted, so that it cannot lock out other systems behind the same address.
        ended = principal is None and await runtime.keystore.is_known(session, key)
    if principal is None:
        if not ended:
            runtime.auth_failures.fail(client)
        locked = runtime.auth_failures.locked(client) is not None
        log.warning("auth_failed", client=client, key_prefix=logged_prefix(key), ended=ended, locked_out=locked)
        raise ApiError(401, "unauthenticated", "the API key is not valid")
    return principal


async def optional_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal | None:
    """The caller's key holder when the request presents a key (a wrong key is refused as by `current_principal`);
    None when it presents none, for endpoints that a reporter's receipt opens too."""
    if credentials is None:
        return None
    return await current_principal(request, credentials)


def logged_prefix(key: str) -> str:
    """What the log may show of a presented key: its listing prefix, and never more than half of it."""
    return key_prefix(key)[: len(key) // 2]


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    allowed = frozenset(roles)

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise ApiError(403, "forbidden", f"this needs one of the roles: {', '.join(sorted(allowed))}")
        return principal

    return dependency
