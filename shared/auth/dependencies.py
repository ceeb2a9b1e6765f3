"""FastAPI dependencies: who is calling, and may they."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth.keys import Principal
from shared.domain import Role
from shared.errors import ApiError

if TYPE_CHECKING:
    from shared.runtime import Runtime

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "unauthenticated", "an API key is required: Authorization: Bearer <key>")
    runtime: Runtime[Any] = request.app.state.runtime
    async with runtime.db.session() as session:
        principal = await runtime.keystore.authenticate(session, credentials.credentials)
    if principal is None:
        raise ApiError(401, "unauthenticated", "the API key is not valid")
    return principal


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    allowed = frozenset(roles)

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise ApiError(403, "forbidden", f"this needs one of the roles: {', '.join(sorted(allowed))}")
        return principal

    return dependency
