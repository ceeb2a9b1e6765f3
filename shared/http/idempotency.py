"""Safe retries: a POST with an `Idempotency-Key` header is done once, and a retry gets the first answer again.

An endpoint takes `idempotency: IdempotencyDep` (made once per service by `idempotency_dependency(table)`) and
hands its work to `idempotency.commit_once(session, Model, act)` instead of committing itself:

- no key: `act()` runs and the session commits, as before;
- a new key: the key's row is claimed (inserted) first, then `act()` runs, then the answer (status and JSON body,
  sealed with the service's keys) is written to the row and everything commits together, so a crash cannot leave
  the action done without its answer or the answer without the action;
- the key again with the same request (principal, method, path and canonical JSON body): the stored answer, with
  `Idempotent-Replayed: true`, and nothing is done;
- the key again with another request: 422 `idempotency_key_mismatch`.

A concurrent duplicate waits: its insert of the same key blocks (PostgreSQL's unique index; SQLite's single writer)
until the first commits, and then it replays the first answer. A refusal (an `ApiError`) rolls back the claim with
the rest, so a retry after a refusal is judged again. Keys are scoped to the principal's key id (or what the
endpoint's `scope` names) and the route, and
kept for the service's `idempotency_ttl_hours`; `shared.db.expiry.purge_expired_worker` deletes the expired ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.auth.dependencies import current_principal
from shared.clock import Clock
from shared.crypto import Sealer
from shared.errors import ApiError
from shared.http.app import runtime_of
from shared.logging import get_logger
from shared.settings import EncryptionSettings, IdempotencySettings

log = get_logger(__name__)

M = TypeVar("M", bound=BaseModel)

MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"
_CLAIM_ATTEMPTS = 3

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=r"^[\x20-\x7e]+$",
        description="Makes a retry safe: the same key with the same request gives the same answer and does nothing "
        "twice; with another request, 422 `idempotency_key_mismatch`. At most 255 printable ASCII characters, "
        "scoped to the API key and the route, kept 24 hours (the service's `idempotency_ttl_hours`).",
    ),
]


def mismatch() -> ApiError:
    return ApiError(
        422,
        "idempotency_key_mismatch",
        "Idempotency-Key ini sudah dipakai untuk permintaan lain / "
        "this Idempotency-Key was already used with a different request",
    )


def canonical_body(raw: bytes) -> bytes:
    """A JSON body with sorted keys and no spacing, so that the same request written otherwise is the same;
    any other body as it came."""
    if not raw.strip():
        return b""
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse: the bytes as they came
        return raw
    return json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode()  # ASCII: a lone surrogate stays escaped


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


@lru_cache(maxsize=8)
def _sealer(keys: tuple[str, ...]) -> Sealer:
    return Sealer(list(keys))


class Idempotency:
    """One request's Idempotency-Key (or none), and the row it claims in the service's table."""

    def __init__(
        self,
        *,
        table: Table,
        key_hash: str | None,
        request_hash: str,
        status_code: int,
        response: Response,
        sealer: Sealer,
        clock: Clock,
        ttl: timedelta,
    ):
        self.request_line: tuple[str, ...] = ()
        """What a streamed request's key is bound to with its content's digests (set by the dependency)."""
        self.table = table
        self.key_hash = key_hash
        self.request_hash = request_hash
        self.status_code = status_code
        self.response = response
        self.sealer = sealer
        self.clock = clock
        self.ttl = ttl

    def bind_content(self, *digests: str) -> None:
        """For a body the dependency did not read (a streamed upload): bind the key to the request line and these
        digests of the content, once it has been read."""
        if self.key_hash is not None:
            self.request_hash = _digest(*self.request_line, *digests)

    async def commit_once(self, session: AsyncSession, model: type[M], act: Callable[[], Awaitable[M]]) -> M:
        """Run `act` and commit with its stored answer, or give back the answer stored for this key."""
        if self.key_hash is None:
            result = await act()
            await session.commit()
            return result
        for _ in range(_CLAIM_ATTEMPTS):
            try:
                stored = await self._claim(session)
            except _Contended:
                continue
            if stored is not None:
                return self._replay(model, stored)
            break
        else:
            raise ApiError(
                409,
                "idempotency_key_in_use",
                "Idempotency-Key ini sedang dipakai permintaan lain; coba lagi / "
                "this Idempotency-Key is being used by another request; retry",
            )
        result = await act()
        body = result.model_dump(mode="json", by_alias=True)
        sealed = self.sealer.seal(json.dumps(body, separators=(",", ":")))
        t = self.table.c
        await session.execute(
            update(self.table)
            .where(t.key_hash == self.key_hash)
            .values(status_code=self.status_code, response_sealed=sealed)
        )
        await session.commit()
        return result

    async def _claim(self, session: AsyncSession) -> _Stored | None:
        """None once this request holds the key (uncommitted), or the answer an earlier request stored; raises
        _Contended if another request claimed the key meanwhile (look again)."""
        now = self.clock.now()
        t = self.table.c
        row = (
            await session.execute(
                select(t.request_hash, t.status_code, t.response_sealed, t.expires_at).where(
                    t.key_hash == self.key_hash
                )
            )
        ).first()
        if row is not None and row.expires_at > now and row.response_sealed is not None:
            if row.request_hash != self.request_hash:
                raise mismatch()
            await session.rollback()
            return _Stored(int(row.status_code), str(row.response_sealed))
        if row is not None:
            await session.execute(delete(self.table).where(t.key_hash == self.key_hash, t.expires_at <= now))
        try:
            await session.execute(
                insert(self.table).values(
                    key_hash=self.key_hash,
                    request_hash=self.request_hash,
                    created_at=now,
                    expires_at=now + self.ttl,
                )
            )
        except IntegrityError:
            # Another request claimed the key and has committed by now (the insert waited for it).
            await session.rollback()
            log.info("idempotency_key_contended")
            raise _Contended from None
        return None

    def _replay(self, model: type[M], stored: _Stored) -> M:
        self.response.status_code = stored.status_code
        self.response.headers[REPLAYED_HEADER] = "true"
        return model.model_validate(json.loads(self.sealer.open(stored.sealed)))


@dataclass(frozen=True)
class _Stored:
    status_code: int
    sealed: str


class _Contended(Exception):
    """Another request claimed the key between our look and our insert."""


async def principal_scope(principal: Annotated[Principal, Depends(current_principal)]) -> str:
    """Keys are scoped to the API key that presents them (and a request without one is refused)."""
    return principal.key_id


def idempotency_dependency(
    table: Table, *, streamed: bool = False, scope: Callable[..., Awaitable[str]] = principal_scope
) -> Callable[..., Awaitable[Idempotency]]:
    """The dependency an endpoint takes to be safe to retry, for the service whose table is `table`. `streamed`:
    the body is not read here (an upload); the endpoint binds the key to its content with `bind_content`. `scope`:
    a dependency naming whose keys these are (by default the API key's id; a reporter's endpoint names the
    receipt's hash), so that no one can replay another's answer."""

    async def dependency(
        request: Request,
        response: Response,
        idempotency_key: IdempotencyKeyHeader = None,
        owner: str = Depends(scope),  # a default: an annotation could not name the local `scope`
    ) -> Idempotency:
        request_line = (request.method, request.url.path, request.url.query)
        idempotency = idempotency_for(request, response, table, owner=owner, key=idempotency_key, content=())
        idempotency.request_line = request_line
        if idempotency_key is not None and not streamed:
            idempotency.request_hash = _digest(*request_line, canonical_body(await request.body()))
        return idempotency

    return dependency


def idempotency_for(
    request: Request,
    response: Response,
    table: Table,
    *,
    owner: str,
    key: str | None,
    content: Sequence[str | bytes],
) -> Idempotency:
    """The request's Idempotency (none without a `key`) with the key scoped to `owner` and the route, and bound to
    `content`: for a key the request carries elsewhere than in the header (an SMS gateway's message id in its body)."""
    runtime = runtime_of(request)
    settings = runtime.settings
    if not isinstance(settings, EncryptionSettings) or not isinstance(settings, IdempotencySettings):
        raise TypeError(f"{type(settings).__name__} needs EncryptionSettings and IdempotencySettings")
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    return Idempotency(
        table=table,
        key_hash=None if key is None else _digest(owner, request.method, template, key),
        request_hash="" if key is None else _digest(*content),
        status_code=getattr(route, "status_code", None) or 200,
        response=response,
        sealer=_sealer(tuple(settings.encryption_key_list())),
        clock=runtime.clock,
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
    )
