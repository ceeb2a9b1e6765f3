"""How a delivery fails, and how its error is told without the recipient's details."""

from __future__ import annotations

import re

_ANY_EMAIL_RE = re.compile(r"[^\s<>(),;:\"']+@[^\s<>(),;:\"']+")
_DIGIT_RUN_RE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().\-/]*\d(?!\w)")
"""A run of digits and the separators people write numbers with; `_phone_redacted` decides on each."""
_PHONE_DIGITS = range(8, 16)
"""E.164 has at most 15 digits; Indonesian numbers have at least 8 (with the 0 or 62 in front)."""


class PermanentFailure(Exception):
    """The message can never be delivered as it is (the server refuses the recipient, the gateway the request)."""


def redact(text: str, secrets: list[str], limit: int = 1000) -> str:
    """An error message fit for the delivery log and logs: the recipient's details and any address removed."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    text = _ANY_EMAIL_RE.sub("[address]", text)
    text = _DIGIT_RUN_RE.sub(_phone_redacted, text)
    return " ".join(text.split())[:limit]


def _phone_redacted(match: re.Match[str]) -> str:
    """`[phone]` for a run that looks like a phone number (+.., 0.., 62.., 8..); anything else as it was."""
    run = match.group(0)
    digits = re.sub(r"\D", "", run)
    phone_like = run.startswith(("+", "(")) or digits.startswith(("0", "62", "8"))
    if phone_like and len(digits) in _PHONE_DIGITS:
        return "[phone]"
    return run
