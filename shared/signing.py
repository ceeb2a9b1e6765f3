"""HMAC-SHA256 signatures of HTTP bodies, one scheme both ways: the webhooks Simpul sends (agency_svc) and the
gateways' calls it takes (an SMS gateway's inbound messages).

`Simpul-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`, the secret taken as its UTF-8
bytes (as Stripe's `Stripe-Signature`). The timestamp is inside the signed material, so a receiver that refuses one
far from its own clock refuses a replayed request; a header may carry several `v1=` (a sender rotating its secret).
"""

from __future__ import annotations

import hashlib
import hmac
import re

SIGNATURE_HEADER = "Simpul-Signature"
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


class SignatureRefused(Exception):
    """Why a signature does not stand: `stale` when only its timestamp is too far from now."""

    def __init__(self, reason: str, *, stale: bool = False):
        super().__init__(reason)
        self.stale = stale


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The Simpul-Signature header's value for `body` sent at `timestamp`."""
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(secret: str, header: str | None, body: bytes, *, now: float, tolerance_s: float) -> None:
    """Raises SignatureRefused unless `header` signs `body` with `secret` at a time within `tolerance_s` of `now`."""
    if not header:
        raise SignatureRefused(f"the {SIGNATURE_HEADER} header is missing")
    timestamps: list[str] = []
    macs: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamps.append(value)
        elif name == "v1":
            macs.append(value.lower())
    if len(timestamps) != 1 or not _UNIX_SECONDS.fullmatch(timestamps[0]) or not macs:
        raise SignatureRefused(f"the {SIGNATURE_HEADER} header must read t=<unix seconds>,v1=<hex>")
    timestamp = int(timestamps[0])
    expected = _mac(secret, timestamp, body)
    if not any(hmac.compare_digest(expected.encode(), m.encode(errors="replace")) for m in macs):
        raise SignatureRefused("the signature does not match the body")
    if abs(now - timestamp) > tolerance_s:
        raise SignatureRefused(f"the signature's timestamp is more than {int(tolerance_s)} s from now", stale=True)
