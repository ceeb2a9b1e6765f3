"""The hub's public paths are all in /openapi.json, each documented: tags, summary, errors."""

from __future__ import annotations

from tests.routing_svc.conftest import Hub

PATHS = {
    "/api/v1/hub/agencies": {"get", "post"},
    "/api/v1/hub/agencies/{code}": {"get", "patch"},
    "/api/v1/hub/agencies/{code}/api-keys": {"get", "post"},
    "/api/v1/hub/api-keys": {"get", "post"},
    "/api/v1/hub/api-keys/{key_id}": {"delete"},
    "/api/v1/hub/api-keys/{key_id}/rotate": {"post"},
    "/api/v1/hub/routing-rules": {"get", "post"},
    "/api/v1/hub/routing-rules/{id}": {"delete"},
    "/api/v1/hub/complaints": {"get"},
    "/api/v1/hub/complaints/{tracking_id}": {"get", "patch"},
    "/api/v1/hub/complaints/{tracking_id}/decisions": {"post"},
    "/api/v1/hub/sla-policies": {"get", "post"},
    "/api/v1/hub/sla-policies/effective": {"get"},
    "/api/v1/hub/sla-policies/{id}": {"get", "patch", "delete"},
    "/api/v1/hub/calendar/{year}": {"get"},
    "/api/v1/hub/calendar/deadline": {"get"},
    "/api/v1/hub/stats/agencies": {"get"},
    "/api/v1/hub/stats/periods": {"get"},
}
TAGS = {"directory", "keys", "routing rules", "sla policies", "calendar", "cases", "decisions", "statistics"}


async def test_every_endpoint_is_documented(hub: Hub) -> None:
    spec = (await hub.client.get("/openapi.json")).json()
    seen_tags: set[str] = set()
    for path, methods in PATHS.items():
        assert path in spec["paths"], path
        assert set(spec["paths"][path]) == methods, path
        for method in methods:
            op = spec["paths"][path][method]
            assert op["tags"] and op.get("description"), (path, method)
            assert "401" in op["responses"] and "403" in op["responses"], (path, method)
            seen_tags.update(op["tags"])
    assert seen_tags == TAGS
    rules = spec["paths"]["/api/v1/hub/routing-rules"]["post"]["description"]
    assert "priority" in rules and "specificity" in rules and "created_at" in rules
