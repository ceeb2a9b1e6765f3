"""Merges the four services' OpenAPI documents into one, so /docs lists every public endpoint."""

from __future__ import annotations

import copy
from typing import Any

REF_PREFIX = "#/components/schemas/"


def merge_openapi(docs: dict[str, dict[str, Any]], *, title: str, version: str, description: str) -> dict[str, Any]:
    """`docs` maps a service name to its document. Only paths under /api/ are kept.

    Schemas with the same name and the same shape are shared; a clash of different shapes is resolved by
    prefixing the later one with its service name (and rewriting its references).
    """
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
        "tags": [],
    }
    seen_tags: set[str] = set()
    for service, original in docs.items():
        doc = copy.deepcopy(original)
        schemas: dict[str, Any] = doc.get("components", {}).get("schemas", {})
        renames: dict[str, str] = {}
        for name, schema in schemas.items():
            existing = merged["components"]["schemas"].get(name)
            if existing is not None and existing != schema:
                renames[name] = f"{service.capitalize()}{name}"
        if renames:
            doc = _rewrite_refs(doc, renames)
            schemas = doc.get("components", {}).get("schemas", {})
        for name, schema in schemas.items():
            merged["components"]["schemas"][renames.get(name, name)] = schema
        merged["components"]["securitySchemes"].update(doc.get("components", {}).get("securitySchemes", {}))
        for path, item in doc.get("paths", {}).items():
            if path.startswith("/api/"):
                merged["paths"][path] = item
        for tag in doc.get("tags", []):
            if tag.get("name") not in seen_tags:
                seen_tags.add(tag["name"])
                merged["tags"].append(tag)
    if not merged["tags"]:
        del merged["tags"]
    return merged


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                target = value[len(REF_PREFIX) :]
                out[key] = REF_PREFIX + renames.get(target, target)
            elif key == "schemas" and isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
                out[key] = {renames.get(k, k): _rewrite_refs(v, renames) for k, v in value.items()}
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node
