"""How a delivery is signed (shared.signing's scheme), and the headers that go with it.

`Simpul-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`; the secret is used as its UTF-8
bytes. Each attempt is signed afresh, so a receiver may refuse a timestamp more than five minutes from its own clock.
"""

from __future__ import annotations

import secrets

from shared.signing import SIGNATURE_HEADER, signature

__all__ = ["SIGNATURE_HEADER", "headers", "new_secret", "signature"]
EVENT_ID_HEADER = "Simpul-Event-Id"
EVENT_TYPE_HEADER = "Simpul-Event-Type"
DELIVERY_ID_HEADER = "Simpul-Delivery-Id"
USER_AGENT = "Simpul-Webhooks/1"

SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix, not a secret)


def new_secret() -> str:
    """256 random bits behind a readable prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def headers(
    *, secret: str, timestamp: int, body: bytes, event_id: str, event_type: str, delivery_id: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event_type,
        DELIVERY_ID_HEADER: str(delivery_id),
    }
