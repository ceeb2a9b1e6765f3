"""What every operation's OpenAPI entry owes to the shared middlewares and handlers, documented in one place.

The body limit answers 413 to any operation that takes a body; the NUL guard 422 to any operation at all (a NUL
can come in the path or query of any of them); the router 404 to an operation with a path parameter whose value
leaves no path it knows (an empty one, or one holding a '/'). All with the ErrorBody, as is every validation
error, for which FastAPI would document its own HTTPValidationError shape, which no response of ours has.

The NUL guard also shapes what a request may hold, so the document states it where requests are described: every
string of a path or query parameter and of a request body refuses NUL (NUL_FREE), as does every property name, and
a property a body's object does not declare takes any JSON without NUL (NulFreeJson), no longer any JSON at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from shared.errors import ErrorBody, error_responses

REF_PREFIX = "#/components/schemas/"
NUL_FREE = r"^[^\x00]*$"
"""What the NUL guard (shared.http.middleware) lets through, as a JSON Schema pattern."""
NUL_FREE_JSON = "NulFreeJson"
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": error_responses(status)[status]["description"],
        "content": {"application/json": {"schema": {"$ref": f"{REF_PREFIX}{ErrorBody.__name__}"}}},
    }


def _add_error_body(doc: dict[str, Any]) -> None:
    schemas: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    body = ErrorBody.model_json_schema(ref_template=REF_PREFIX + "{model}")
    for name, schema in body.pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas.setdefault(ErrorBody.__name__, body)


def _uses_fastapi_validation_shape(response: dict[str, Any]) -> bool:
    schema: dict[str, Any] = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref") == f"{REF_PREFIX}{FASTAPI_VALIDATION_SCHEMAS[0]}"


def add_shared_responses(doc: dict[str, Any]) -> dict[str, Any]:
    """Amend `doc` in place: 413 where a body is taken, 404 where a path has parameters, 422 everywhere."""
    _add_error_body(doc)
    for item in doc.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("413", _error_response(413))
            if any(p.get("in") == "path" for p in operation.get("parameters", [])):
                responses.setdefault("404", _error_response(404))
            if "422" not in responses or _uses_fastapi_validation_shape(responses["422"]):
                responses["422"] = _error_response(422)
    schemas = doc["components"]["schemas"]
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    return doc


def _nul_free_json() -> dict[str, Any]:
    ref = {"$ref": f"{REF_PREFIX}{NUL_FREE_JSON}"}
    return {
        "description": "Any JSON value without a NUL character in any of its strings or property names.",
        "anyOf": [
            {"type": "string", "pattern": NUL_FREE},
            {"type": ["number", "boolean", "null"]},
            {"type": "array", "items": ref},
            {"type": "object", "propertyNames": {"pattern": NUL_FREE}, "additionalProperties": ref},
        ],
    }


class _NulFree:
    """Amends request schemas in place to say what the NUL guard refuses; each component once."""

    def __init__(self, schemas: dict[str, Any]):
        self.schemas = schemas
        self.done: set[str] = set()

    def schema(self, node: Any) -> None:
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            name = ref[len(REF_PREFIX) :]
            if name not in self.done and name in self.schemas:
                self.done.add(name)
                self.schema(self.schemas[name])
            return
        types = node.get("type")
        kinds = set(types) if isinstance(types, list) else {types}
        if "string" in kinds and not ({"pattern", "enum", "const"} & node.keys()):
            node["pattern"] = NUL_FREE
        if "object" in kinds or "properties" in node:
            node.setdefault("propertyNames", {"pattern": NUL_FREE})
            if node.get("additionalProperties", True) is True:
                node["additionalProperties"] = {"$ref": f"{REF_PREFIX}{NUL_FREE_JSON}"}
        for key in ("items", "additionalProperties"):
            self.schema(node.get(key))
        for key in ("properties",):
            for child in (node.get(key) or {}).values():
                self.schema(child)
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            for child in node.get(key) or []:
                self.schema(child)


def state_the_nul_guard(doc: dict[str, Any]) -> dict[str, Any]:
    """Amend `doc` in place: no NUL in any path or query parameter, nor anywhere in a request body."""
    schemas: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    amend = _NulFree(schemas)
    for item in doc.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in ("path", "query"):
                    amend.schema(parameter.get("schema"))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                amend.schema(media.get("schema"))
    schemas[NUL_FREE_JSON] = _nul_free_json()
    return doc


def document_shared_responses(app: FastAPI) -> None:
    """Make `app.openapi()` include add_shared_responses and state_the_nul_guard (once; FastAPI caches it)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = state_the_nul_guard(add_shared_responses(build()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def path_pattern(template: str) -> re.Pattern[str]:
    """The paths a documented path template (`/items/{item_id}`) stands for."""
    return re.compile(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)))


def documented_methods(doc: dict[str, Any], path: str) -> list[str] | None:
    """The methods `doc` documents for `path` (a concrete path wins over a template that also matches it, as
    OpenAPI has it), or None if no documented path matches."""
    matching = [
        (template.count("{"), item)
        for template, item in doc.get("paths", {}).items()
        if path_pattern(template).fullmatch(path)
    ]
    if not matching:
        return None
    _, item = min(matching, key=lambda found: found[0])
    return sorted(method.upper() for method in item if method in METHODS)


def link_to(path: str, method: str, parameters: dict[str, str], description: str) -> dict[str, Any]:
    """An OpenAPI link to the operation `method` `path` of the same document, for a response's `links`."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method}", "parameters": parameters, "description": description}
