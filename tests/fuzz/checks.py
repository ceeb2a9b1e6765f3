"""How the fuzz run judges what the services answer: schemathesis' checks, and where this API departs from them.

negative_data_rejection: a request the document calls invalid may also be refused with 413 (a body past the limit
is refused before it is read), which schemathesis does not count among rejections.

positive_data_acceptance: 422 is also an answer to a request the document calls valid, when it breaks a rule the
document cannot state (NUL it does state: shared.http.openapi.state_the_nul_guard): a node or agency that does not
exist, `from` after `to`, an expiry in the past, an Idempotency-Key reused with another body. The error code names
the rule. 415 is one too: an upload's `file` may be any bytes by the document, and only some types are taken.
What the check is for still holds through `document_and_validator_agree`: the request validator itself
(422 `validation_error`) must not refuse a value the document allows, except for rules written in code (a value
error: an incident date in the future, a message that both accepts and disputes; a phone number outside the
countries the hub texts, a setting) and for a length or pattern
checked after surrounding whitespace is stripped (a normalisation the document's minLength and pattern cannot
say); and not in linked sequences, whose values come from earlier answers unchecked.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.generation.meta import TestPhase

NEGATIVE_DATA_REJECTED_WITH = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
POSITIVE_DATA_ACCEPTED_WITH = ["2xx", "3xx", "401", "403", "404", "409", "415", "422", "429"]
CHECKS: dict[str, Any] = {
    # schemathesis' defaults (which also list 5xx, left to not_a_server_error), with 413 and 422 added
    "negative_data_rejection": {"expected-statuses": [*NEGATIVE_DATA_REJECTED_WITH, "5xx"]},
    "positive_data_acceptance": {"expected-statuses": [*POSITIVE_DATA_ACCEPTED_WITH, "5xx"]},
}


def _sent(case: Case, loc: list[Any]) -> Any:
    """The value the request carried at a validation error's `loc` (["body", "reporter", "name"], say)."""
    if not loc:
        return None
    where, path = loc[0], loc[1:]
    value: Any = {"body": case.body, "query": case.query, "path": case.path_parameters, "header": case.headers}.get(
        where
    )
    for key in path:
        if isinstance(value, dict) and key in value:
            value = value[key]
            continue
        if not (isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value)):
            return None
        value = value[key]
    return value


CODE_RULES = frozenset({"value_error", "phone_not_accepted"})
"""Validation errors of rules written in code: a value error, and the countries a phone may be in (a setting)."""


def _beyond_the_document(case: Case, detail: dict[str, Any]) -> bool:
    if detail.get("type") in CODE_RULES:
        return True
    sent = _sent(case, detail.get("loc", []))
    after_strip = detail.get("type") in ("string_too_short", "string_pattern_mismatch")
    return after_strip and isinstance(sent, str) and sent.strip() != sent


@schemathesis.check
def document_and_validator_agree(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A value the document allows is never refused by the request validator (see the module's docstring)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    if meta.phase.name is TestPhase.STATEFUL:
        # A link's values come from earlier answers as they are, unchecked against this operation's document.
        return None
    error = response.json().get("error", {})
    if error.get("code") != "validation_error":
        return None
    refused = [d for d in error.get("details") or [] if not _beyond_the_document(case, d)]
    if refused:
        raise AssertionError(f"the validator refuses what the document allows: {refused}")
    return None
