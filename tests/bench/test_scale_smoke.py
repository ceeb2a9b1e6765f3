"""The scale bench at smoke size: it runs and reports every figure; how fast it is is `make bench`'s business."""

from __future__ import annotations

import json
from typing import Any

from tests.bench.scale import run_scale
from tests.support.databases import postgres_env_url

ROUTING_FIGURES = ("nodes", "rules", "p50_ms", "p99_ms", "with_commit_p50_ms", "with_commit_p99_ms", "n")
SWEEP_FIGURES = ("open_cases", "due", "swept", "seconds", "query_seconds", "idle_seconds")


def positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


async def test_the_scale_bench_runs_at_smoke_size(backend: str) -> None:
    url = postgres_env_url() if backend == "postgres" else None
    said: list[str] = []
    result = await run_scale(smoke=True, postgres_url=url, progress=said.append)

    assert said, "the bench says what it is doing"
    assert json.loads(json.dumps(result)) == result
    measured = (
        {"postgresql": result["routing"], "sqlite": result["routing_sqlite"]} if url else {"sqlite": result["routing"]}
    )
    for database, routing in measured.items():
        assert routing["database"] == database
        for size in ("small", "national"):
            assert all(positive(routing[size][k]) for k in ROUTING_FIGURES), routing[size]
            assert routing[size]["p99_ms"] >= routing[size]["p50_ms"]
        assert routing["small"]["nodes"] == 10
        assert routing["national"]["nodes"] > routing["small"]["nodes"]
        assert positive(routing["ratio_p50"])

    if url is None:
        assert result["sweep"] == result["stats"] == {"skipped": "needs PostgreSQL"}
        return
    assert result["database"] == "postgresql"
    sweep = result["sweep"]
    assert all(positive(sweep[k]) for k in SWEEP_FIGURES), sweep
    assert sweep["swept"] <= sweep["due"] and sweep["left_due"] == 0, "one sweep took every due clock"
    stats = result["stats"]
    assert stats["open_cases"] == sweep["open_cases"]
    assert set(stats["queries"]) >= {"agencies", "agencies_subtree", "periods_day", "periods_month"}
    assert all(positive(seconds) for seconds in stats["queries"].values()), stats
