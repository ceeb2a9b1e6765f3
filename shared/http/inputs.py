"""Request value types that take what the OpenAPI document says they take, and no more.

Pydantic's lax mode reads more than the document promises: 0 and "yes" as booleans, "5" and false as integers,
and a number, or a string of digits, as a Unix time where a date is asked for. With these, a request that sends
the wrong type is refused with 422. JsonBool and JsonInt are for JSON bodies (a query string is text, and reading
"true" or "5" from it is what it is for); IsoDate and IsoDateTime for bodies and query strings alike.

EmailAddress is the one rule for what an email address is: every service takes addresses with it, and notify_svc
checks an address with `is_email_address` before it writes to it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, StringConstraints

_STARTS_WITH_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _text(kind: str, whole: bool) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, str):
            matched = _STARTS_WITH_DATE.fullmatch(value) if whole else _STARTS_WITH_DATE.match(value)
            if matched is None:
                raise ValueError(f"{kind} must be written as in ISO 8601, starting YYYY-MM-DD")
        elif not isinstance(value, date):  # a datetime is a date too
            raise ValueError(f"{kind} must be a string in ISO 8601")
        return value

    return check


def _json_integer(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number without a fraction")
    return int(value) if isinstance(value, float) and value.is_integer() else value


JSON_INTEGER = BeforeValidator(_json_integer)
"""For an alias with its own constraints, after them: Annotated[int, Field(ge=1), JSON_INTEGER] (placed before
them, the constraints reach the validation but not the JSON Schema)."""

JsonBool = StrictBool
"""true or false."""
JsonInt = Annotated[int, JSON_INTEGER]
"""A JSON number without a fraction (3 or 3.0, as JSON Schema's integer); not a boolean, not a string of digits.
Constraints go on the model field (Field(ge=1)), or see JSON_INTEGER."""

IsoDate = Annotated[date, BeforeValidator(_text("a date", whole=True))]
"""A date as YYYY-MM-DD."""
IsoDateTime = Annotated[datetime, BeforeValidator(_text("a date and time", whole=False))]
"""A date and time in ISO 8601 (YYYY-MM-DDThh:mm[:ss][offset]); how a missing offset is read is the field's."""


def email_address(value: str) -> str:
    """The address in its normal form (the domain lowercased); a ValueError if it is not an email address."""
    try:
        # test_environment admits the reserved `.test` domain (used by test suites) and never asks DNS.
        return validate_email(value, check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"value is not a valid email address: {exc}") from exc


def is_email_address(value: str) -> bool:
    """Whether `value` is an email address by the rule EmailAddress takes them with."""
    try:
        email_address(value)
    except ValueError:
        return False
    return True


EMAIL_MAX_LENGTH = 254

EmailAddress = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=EMAIL_MAX_LENGTH),
    Field(json_schema_extra={"format": "email"}),
    AfterValidator(email_address),
]
"""An email address (surrounding whitespace stripped), in its normal form: the domain lowercased."""
