"""A path written out in full is a resource of its own, whatever template beside it would also match it.

Starlette takes the first route that matches both path and method, so `PATCH /sla-policies/effective` would reach
`PATCH /sla-policies/{id}` with the id "effective" (a 422), and `DELETE /webhooks/deliveries` the webhook named
"deliveries" (a 404), where the document, in which a concrete path wins over a template (as OpenAPI has it), says
the path takes GET only: a 405. Routes placed first answer those methods with 405, and the error handler names the
methods the path does take in `Allow`.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import Route


async def _method_not_allowed(_: Request) -> None:
    raise HTTPException(405)


def refuse_templates_on_concrete_paths(app: FastAPI) -> None:
    """On each concrete path, answer 405 to the methods only a matching template takes (call once routes are in)."""
    routes = [route for route in app.router.routes if isinstance(route, APIRoute)]
    concrete: dict[str, set[str]] = {}
    for route in routes:
        if "{" not in route.path:
            concrete.setdefault(route.path, set()).update(route.methods)
    guards: list[Route] = []
    for path, methods in concrete.items():
        templated = [r.methods for r in routes if "{" in r.path and r.path_regex.match(path)]
        others = set().union(*templated) - methods
        if others:
            guards.append(Route(path, _method_not_allowed, methods=sorted(others), include_in_schema=False))
    app.router.routes[:0] = guards
