"""The merged document keeps every /api path and resolves schema name clashes without breaking references."""

from __future__ import annotations

from services.openapi_merge import merge_openapi


def _doc(path: str, schema_name: str, schema: dict) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "x", "version": "1"},
        "paths": {
            path: {
                "get": {
                    "responses": {
                        "200": {
                            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}
                        }
                    }
                }
            },
            "/healthz": {"get": {}},
        },
        "components": {"schemas": {schema_name: schema, "ErrorBody": {"type": "object"}}},
        "tags": [{"name": path.split("/")[3]}],
    }


def test_paths_of_every_service_are_kept_and_operations_hidden() -> None:
    merged = merge_openapi(
        {"a": _doc("/api/v1/a", "Case", {"type": "object"}), "b": _doc("/api/v1/b", "Other", {"type": "string"})},
        title="Simpul",
        version="1",
        description="d",
    )
    assert set(merged["paths"]) == {"/api/v1/a", "/api/v1/b"}
    assert set(merged["components"]["schemas"]) == {"Case", "Other", "ErrorBody"}
    assert [t["name"] for t in merged["tags"]] == ["a", "b"]


def test_clashing_schema_names_are_prefixed_and_references_follow() -> None:
    merged = merge_openapi(
        {
            "intake": _doc("/api/v1/complaints", "CaseView", {"type": "object", "title": "reporter"}),
            "routing": _doc("/api/v1/hub", "CaseView", {"type": "object", "title": "hub"}),
        },
        title="Simpul",
        version="1",
        description="d",
    )
    schemas = merged["components"]["schemas"]
    assert schemas["CaseView"]["title"] == "reporter"
    assert schemas["RoutingCaseView"]["title"] == "hub"
    ref = merged["paths"]["/api/v1/hub"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/RoutingCaseView"
    assert "ErrorBody" in schemas and "RoutingErrorBody" not in schemas, "identical schemas are shared"
