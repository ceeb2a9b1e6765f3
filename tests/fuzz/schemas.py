"""The schemathesis schemas of the four services, built from the documents their apps serve.

The documents come from the app factories (nothing is started), so pytest can make one test per operation when it
collects; test_served_documents_are_the_fuzzed_ones checks that the running services serve the very same.
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.schemas import BaseSchema

from tests.fuzz.checks import CHECKS
from tests.fuzz.hostile import HOSTILE_STRINGS
from tests.fuzz.hub import SERVICES, ServiceUnderTest
from tests.support.apps import ADMIN_KEY, keys_for

EXAMPLES = int(os.environ.get("SIMPUL_FUZZ_EXAMPLES", "25"))
"""Examples per operation in the fuzzing phase; the coverage phase adds its boundary and negative cases to these."""
DEFAULT_SEED = 20240917
"""The bounded run's seed: the same cases every time, so a failure in CI replays locally. `make fuzz` picks one."""
HOSTILE_SHARE = 0.2
"""How often a generated string is one of HOSTILE_STRINGS instead (those the schema allows, or, in negative
cases, those it does not)."""


def openapi_document(svc: ServiceUnderTest) -> dict[str, Any]:
    """The OpenAPI document `svc` serves, from its app factory."""
    values: dict[str, Any] = {"bootstrap_admin_key": ADMIN_KEY, **keys_for(svc.settings_cls)}
    with tempfile.TemporaryDirectory() as tmp:
        app = svc.create_app(svc.settings_cls(data_dir=Path(tmp), **values))
        return app.openapi()


def schemathesis_config(seed: int) -> dict[str, Any]:
    """Every built-in check (see tests.fuzz.checks); hostile strings mixed into generated ones; no example database.

    The tests set the Authorization header themselves (a real key of some role, a wrong one, or none), so
    schemathesis does not generate one.
    """
    return {
        "seed": seed,
        "cache": {"enabled": False},
        "generation": {
            "max-examples": EXAMPLES,
            "database": "none",
            "with-security-parameters": False,
            "dictionaries": {"string": {"dictionary": "hostile", "probability": HOSTILE_SHARE}},
        },
        "dictionaries": {"hostile": {"values": HOSTILE_STRINGS}},
        "checks": CHECKS,
    }


DOCUMENTS: dict[str, dict[str, Any]] = {svc.name: openapi_document(svc) for svc in SERVICES}
SCHEMAS: dict[str, BaseSchema] = {
    # A copy: schemathesis adds to the document it is given (the links it infers, for one).
    name: schemathesis.openapi.from_dict(
        copy.deepcopy(doc), config=schemathesis.Config.from_dict(schemathesis_config(DEFAULT_SEED))
    )
    for name, doc in DOCUMENTS.items()
}


def use_seed(seed: int) -> None:
    """Make every schema generate from `seed` (before pytest builds the tests, that is at configure time)."""
    for schema in SCHEMAS.values():
        schema.config.seed = seed
