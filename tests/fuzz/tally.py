"""How many requests the fuzz tests made, per backend, service and kind of test (reported by conftest)."""

from __future__ import annotations

from collections import Counter

from tests.fuzz.hub import FuzzHub

KINDS = ("generated", "linked", "explicit")
"""generated: schemathesis' coverage and fuzzing phases; linked: its stateful sequences; explicit: the hostile cases."""
REQUESTS: Counter[tuple[str, str, str]] = Counter()


def count_request(hub: FuzzHub, service: str, kind: str) -> None:
    REQUESTS[(hub.backend, service, kind)] += 1
