"""Sequences of calls along the documents' links (explicit, like a submission's receipt opening the reporter's
operations, or inferred by schemathesis, like a node's code opening its keys): each step judged by every check.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.errors import Flaky
from schemathesis import Case, Response
from schemathesis.core.failures import FailureGroup

from tests.fuzz.explicit import CALLER
from tests.fuzz.hub import REQUEST_TIMEOUT_S, FuzzHub
from tests.fuzz.schemas import SCHEMAS
from tests.fuzz.seed import Seed
from tests.fuzz.tally import count_request
from tests.support.apps import auth

SCENARIOS = int(os.environ.get("SIMPUL_FUZZ_SCENARIOS", "10"))
"""Scenarios per service, each of up to STEPS calls."""
STEPS = 5


@pytest.mark.parametrize("service", ["intake", "routing", "agency", "notify"])
def test_linked_calls_answer_as_documented(
    request: pytest.FixtureRequest, fuzz_hub: FuzzHub, seeded: Seed, service: str
) -> None:
    role = CALLER[service]
    base_url = fuzz_hub.urls[service]
    headers = auth(seeded.keys[role]) if role else {}
    failures: list[str] = []

    class Machine(SCHEMAS[service].as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            count_request(fuzz_hub, service, "linked")
            return {"base_url": base_url, "headers": {**headers, **(case.headers or {})}, "timeout": REQUEST_TIMEOUT_S}

        def validate_response(self, response: Response, case: Case, *args: Any, **kwargs: Any) -> None:
            # Kept rather than raised: Hypothesis would replay the sequence to shrink it, against services whose
            # state the sequence itself changed, and report that the replay went another way instead of the failure.
            try:
                super().validate_response(response, case, *args, **kwargs)
            except FailureGroup as exc:
                failures.append(str(exc))

    chosen_seed = request.config.getoption("hypothesis_seed", None)
    try:
        Machine.run(
            settings=settings(
                max_examples=SCENARIOS,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                derandomize=chosen_seed is None,  # the bounded run repeats itself; --hypothesis-seed picks another
                suppress_health_check=list(HealthCheck),
            )
        )
    except Flaky:
        # Which links can be followed depends on the services' answers, which the sequences change: Hypothesis may
        # stop exploring when a choice it made before is no longer on offer. What ran was checked all the same.
        pass
    assert not failures, "\n\n".join(dict.fromkeys(failures))
