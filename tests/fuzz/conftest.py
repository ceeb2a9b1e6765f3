"""The fuzz run's fixtures: the four services over HTTP (once per backend) and what they were seeded with.

SIMPUL_FUZZ_EXAMPLES and SIMPUL_FUZZ_SCENARIOS set how much is generated (the bounded run in `make test` keeps
their defaults); `--hypothesis-seed` picks the seed, fixed otherwise so that a failure in CI replays locally.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fuzz.hub import FuzzHub, running_fuzz_hub
from tests.fuzz.schemas import DEFAULT_SEED, EXAMPLES, use_seed
from tests.fuzz.seed import Seed, seed_hub
from tests.fuzz.tally import KINDS, REQUESTS
from tests.support.databases import backends


def pytest_configure(config: pytest.Config) -> None:
    chosen = config.getoption("hypothesis_seed", None)
    use_seed(int(chosen) if chosen is not None else DEFAULT_SEED)


@pytest.fixture(scope="package", params=backends())
def fuzz_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzHub]:
    with running_fuzz_hub(str(request.param), tmp_path_factory.mktemp("fuzz")) as hub:
        yield hub


@pytest.fixture(scope="package")
def seeded(fuzz_hub: FuzzHub) -> Seed:
    return seed_hub(fuzz_hub)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not REQUESTS:
        return
    seed = config.getoption("hypothesis_seed", None) or DEFAULT_SEED
    terminalreporter.section(f"fuzz: requests made (seed {seed}, {EXAMPLES} examples per operation)")
    terminalreporter.write_line(f"{'backend':<10}{'service':<10}" + "".join(f"{k:>11}" for k in KINDS))
    for backend, service in sorted({(b, s) for b, s, _ in REQUESTS}):
        counts = "".join(f"{REQUESTS[(backend, service, k)]:>11}" for k in KINDS)
        terminalreporter.write_line(f"{backend:<10}{service:<10}{counts}")
