"""`schemathesis run --checks all` against a whole hub (`simpul up`) through its one base URL, with an admin key.

The merged document the gateway serves is the one fuzzed, and every request goes through the gateway as a client's
would. The run is judged as the in-process fuzz run is (tests.fuzz.checks, loaded as schemathesis hooks): every
check, with 413 and 422 also counted as the answers they are (see that module and docs/hostile-input.md).

The bounded run in `make test` runs the fuzzing phase at a few examples per operation, and checks the Allow of every
documented path itself; `make fuzz` sets SIMPUL_CONFORMANCE_EXAMPLES and runs every phase (examples, coverage: every
documented boundary and every undocumented method, fuzzing, stateful).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.hub import Hub, drop_schemas, running_hub
from tests.fuzz.checks import CHECKS
from tests.fuzz.schemas import DEFAULT_SEED
from tests.support.apps import ADMIN_KEY, auth
from tests.support.databases import backends, postgres_env_url

pytestmark = pytest.mark.e2e

LONG_RUN = "SIMPUL_CONFORMANCE_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("SIMPUL_CONFORMANCE_EXAMPLES", "3"))
PHASES = "examples,coverage,fuzzing,stateful" if LONG_RUN else "fuzzing"
ASKED = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE")
"""The methods every path is asked with (the documents never give HEAD: FastAPI routes do not take it)."""
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=backends())
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    data_dir = tmp_path_factory.mktemp("conformance")
    if request.param == "sqlite":
        with running_hub(data_dir) as started:
            yield started
        return
    prefix = f"conf_{os.getpid()}_"
    try:
        with running_hub(data_dir, postgres=postgres_env_url(), schema_prefix=prefix) as started:
            yield started
    finally:
        drop_schemas(prefix)


def _config(path: Path) -> Path:
    """The checks' settings of tests.fuzz.checks, as the schemathesis.toml the CLI reads."""
    lines = []
    for check, options in CHECKS.items():
        lines.append(f"[checks.{check}]")
        lines += [f"{key} = {[str(v) for v in value]!r}".replace("'", '"') for key, value in options.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.timeout(1800 if LONG_RUN else 300)
def test_schemathesis_finds_nothing_with_every_check(hub: Hub, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """`schemathesis run --checks all` exits 0: no 5xx, the Allow of every 405 exact, the document's constraints
    those the code enforces (a 422 for a rule of the domain aside)."""
    seed = request.config.getoption("hypothesis_seed", None) or DEFAULT_SEED
    argv = [
        str(SCHEMATHESIS),
        "--config-file",
        str(_config(tmp_path / "schemathesis.toml")),
        "--no-color",
        "run",
        f"{hub.base_url}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {ADMIN_KEY}",
        "--phases",
        PHASES,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
    ]
    # Run in tmp_path, where schemathesis leaves its .schemathesis folder; the hooks import from the repository.
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.checks", "PYTHONPATH": str(REPO)}
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(argv[3:6])} ... (seed {seed}):\n{done.stdout[-20000:]}{done.stderr}"


def test_a_405_through_the_base_url_names_exactly_the_documented_methods(hub: Hub) -> None:
    """Every documented path, asked with each method it does not take (path parameters as an existing id would be
    spelled), answers 405 with the methods the merged document gives it in Allow, as schemathesis checks it."""
    with httpx.Client(base_url=hub.base_url, headers=auth(ADMIN_KEY), timeout=30) as client:
        paths: dict[str, Any] = client.get("/openapi.json").json()["paths"]
        wrong = []
        for path, item in paths.items():
            documented = sorted(m.upper() for m in item if m.upper() in ASKED)
            url = re.sub(r"\{[^/]+\}", "1", path)
            for method in (m for m in ASKED if m not in documented):
                r = client.request(method, url)
                if r.status_code != 405 or r.headers.get("allow") != ", ".join(documented):
                    wrong.append(f"{method} {url}: {r.status_code} Allow {r.headers.get('allow')} ({documented})")
    assert not wrong, "\n".join(wrong)
