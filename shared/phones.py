"""Phone numbers: written as E.164, and which of them the hub accepts for SMS (Indonesian mobiles, and any country
the settings name). Intake refuses the others on the form, so that the public form cannot text the world."""

from __future__ import annotations

import re

PHONE_INPUT_PATTERN = r"^\+?[0-9 ()-]{6,20}$"
"""How a phone number may be written on a form: digits, spaces, brackets and dashes, with a leading + if any."""
_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_INDONESIA = "+62"
_INDONESIAN_MOBILE = re.compile(r"^\+628[0-9]{8,11}$")
_COUNTRY_CODE = re.compile(r"^[1-9][0-9]{0,2}$")


def e164(phone: str) -> str | None:
    """A number as E.164: `0812 ...`, `812 ...` and `62 812 ...` become `+62812...`; None if not a number."""
    digits = _SEPARATORS.sub("", phone.strip())
    if digits.startswith("+"):
        number = digits
    elif digits.startswith("0"):
        number = _INDONESIA + digits[1:]
    elif digits.startswith("8"):
        number = _INDONESIA + digits
    else:
        number = "+" + digits
    return number if _E164.match(number) else None


def is_phone_input(text: str) -> bool:
    """Whether a form's phone number is written as PHONE_INPUT_PATTERN allows and reads as E.164."""
    return re.match(PHONE_INPUT_PATTERN, text) is not None and e164(text) is not None


def country_codes(value: str) -> tuple[str, ...]:
    """Comma-separated calling codes without `+` ('60, 65'); ValueError for anything else. 62 is always Indonesia's
    mobiles alone, and cannot be listed (it would admit landlines)."""
    codes = tuple(c.strip().removeprefix("+") for c in value.split(",") if c.strip())
    for code in codes:
        if not _COUNTRY_CODE.match(code) or code == _INDONESIA[1:]:
            raise ValueError(f"not a country calling code other than 62: {code!r}")
    return codes


def may_text(number: str, other_countries: tuple[str, ...]) -> bool:
    """Whether an E.164 number is one the hub sends SMS to: an Indonesian mobile (+62 8...), or any number of a
    country named in `other_countries`."""
    if number.startswith(_INDONESIA):
        return _INDONESIAN_MOBILE.match(number) is not None
    return any(number.startswith("+" + code) for code in other_countries)
