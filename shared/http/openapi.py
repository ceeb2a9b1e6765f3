"""What every operation's OpenAPI entry owes to the shared middlewares and handlers, documented in one place.

The body limit answers 413 to any operation that takes a body; the NUL guard 422 to any operation at all (a NUL
can come in the path or query of any of them); the router 404 to an operation with a path parameter whose value
leaves no path it knows (an empty one, or one holding a '/'). All with the ErrorBody, as is every validation
error, for which FastAPI would document its own HTTPValidationError shape, which no response of ours has.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from shared.errors import ErrorBody, error_responses

REF_PREFIX = "#/components/schemas/"
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


def document_shared_responses(app: FastAPI) -> None:
    """Make `app.openapi()` include add_shared_responses (once; FastAPI caches the document)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_shared_responses(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def documented_methods(doc: dict[str, Any], path: str) -> list[str] | None:
    """The methods `doc` documents for `path` (a concrete path wins over a template that also matches it, as
    OpenAPI has it), or None if no documented path matches."""
    matching = [
        (template.count("{"), item)
        for template, item in doc.get("paths", {}).items()
        if re.fullmatch(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)), path)
    ]
    if not matching:
        return None
    _, item = min(matching, key=lambda found: found[0])
    return sorted(method.upper() for method in item if method in METHODS)


def link_to(path: str, method: str, parameters: dict[str, str], description: str) -> dict[str, Any]:
    """An OpenAPI link to the operation `method` `path` of the same document, for a response's `links`."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method}", "parameters": parameters, "description": description}
