"""How a delivery fails, and how its error is told without the recipient's details."""

from __future__ import annotations

import re

_ANY_EMAIL_RE = re.compile(r"[^\s<>(),;:\"']+@[^\s<>(),;:\"']+")


class PermanentFailure(Exception):
    """The message can never be delivered as it is (the server refuses the recipient, the gateway the request)."""


def redact(text: str, secrets: list[str], limit: int = 1000) -> str:
    """An error message fit for the delivery log and logs: the recipient's details and any address removed."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    text = _ANY_EMAIL_RE.sub("[address]", text)
    return " ".join(text.split())[:limit]
