"""Builds a service's FastAPI app around its Runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.http.attachment_paths import is_upload_path
from shared.http.concrete_paths import refuse_templates_on_concrete_paths
from shared.http.errors import install_error_handlers
from shared.http.health import router as health_router
from shared.http.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BODY_BYTES, BodyLimitSettings
from shared.http.middleware import RequestGuardMiddleware
from shared.http.openapi import document_shared_responses
from shared.runtime import Runtime

C = TypeVar("C")


def build_app(
    runtime: Runtime[Any],
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    version: str = "1.0.0",
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    # One spelling per path: a trailing slash (an empty or "/" id, say) is a 404, not a redirect to another resource.
    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan, redirect_slashes=False)
    app.state.runtime = runtime
    install_error_handlers(app)
    document_shared_responses(app)
    settings = runtime.settings
    limits = settings if isinstance(settings, BodyLimitSettings) else None
    app.add_middleware(
        RequestGuardMiddleware,
        service=runtime.service,
        max_body_bytes=limits.max_body_bytes if limits else DEFAULT_MAX_BODY_BYTES,
        larger=[(is_upload_path, limits.max_upload_body_bytes if limits else DEFAULT_MAX_UPLOAD_BODY_BYTES)],
    )
    app.include_router(health_router)
    for router in routers:
        app.include_router(router)
    refuse_templates_on_concrete_paths(app)
    return app


def runtime_of(request: Request) -> Runtime[Any]:
    runtime: Runtime[Any] = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime[Any]:
    """A dependency (async, so that FastAPI does not hand it to a thread on every request)."""
    return runtime_of(request)


def context_of(kind: type[C]) -> Callable[[Request], Awaitable[C]]:
    """A dependency that gives the service's context (`Runtime.context`), checked to be a `kind`."""

    async def get_context(request: Request) -> C:
        context = runtime_of(request).context
        if not isinstance(context, kind):
            raise TypeError(f"the runtime's context is a {type(context).__name__}, not a {kind.__name__}")
        return context

    return get_context


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.runtime.db.session() as session:
        yield session


RuntimeDep = Annotated[Runtime[Any], Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
