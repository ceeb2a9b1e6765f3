"""A path written out in full is a resource of its own, whatever template beside it would also match it.

Starlette takes the first route that matches both path and method, so `PATCH /sla-policies/effective` would reach
`PATCH /sla-policies/{id}` with the id "effective" (a 422), and `DELETE /webhooks/deliveries` the webhook named
"deliveries" (a 404), where the document, in which a concrete path wins over a template (as OpenAPI has it), says
the path takes GET only: a 405. A route placed first answers those methods with 405, and the error handler names
the methods the path does take in `Allow`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from shared.http.openapi import METHODS, path_pattern


def refused_on_concrete_paths(doc: dict[str, Any]) -> dict[str, frozenset[str]]:
    """Each concrete path of `doc` -> the methods only a template that also matches it takes."""
    paths: dict[str, Any] = doc.get("paths", {})
    methods = {path: {m.upper() for m in item if m in METHODS} for path, item in paths.items()}
    templates = [(path_pattern(path), methods[path]) for path in paths if "{" in path]
    refused: dict[str, frozenset[str]] = {}
    for path in paths:
        if "{" in path:
            continue
        others = set().union(*(taken for pattern, taken in templates if pattern.fullmatch(path))) - methods[path]
        if others:
            refused[path] = frozenset(others)
    return refused


class _ConcretePathGuard(BaseRoute):
    def __init__(self, app: FastAPI):
        self.app = app
        self._refused: dict[str, frozenset[str]] | None = None

    def refused(self) -> dict[str, frozenset[str]]:
        if self._refused is None:  # from the document, once every route is in
            self._refused = refused_on_concrete_paths(self.app.openapi())
        return self._refused

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["method"] in self.refused().get(scope["path"], ()):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise HTTPException(405)


def refuse_templates_on_concrete_paths(app: FastAPI) -> None:
    """On each concrete path, answer 405 to the methods only a matching template takes."""
    app.router.routes.insert(0, _ConcretePathGuard(app))
