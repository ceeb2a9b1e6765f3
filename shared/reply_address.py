"""A case's reply address: `lapor+<tracking_id>.<token>@hub.example`, where the token is a short HMAC of the tracking
id under a secret that notify (which writes it into Reply-To) and the email door (which reads it) share. Without the
secret nobody can make an address that adds to someone else's case."""

from __future__ import annotations

import base64
import hashlib
import hmac

REPLY_ABOVE = "## Balas di atas baris ini / Reply above this line ##"
"""The first line of a reporter's mail that invites a reply: the email door keeps only what is written above it, so
what the mail said (and what a mail client quotes of it) never becomes part of the reporter's message."""

TOKEN_LENGTH = 10
"""Base32 characters of the token (50 bits): enough against guessing, short enough for an address."""


def reply_token(tracking_id: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), tracking_id.upper().encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:TOKEN_LENGTH]


def reply_address(base: str, tracking_id: str, secret: str) -> str:
    """The case's address made from the hub's `base` (`lapor@hub.example` -> `lapor+SPL-….token@hub.example`)."""
    local, _, domain = base.strip().rpartition("@")
    if not local or not domain:
        raise ValueError(f"not an email address: {base!r}")
    return f"{local}+{tracking_id}.{reply_token(tracking_id, secret)}@{domain}"


def case_of(address: str, secret: str) -> str | None:
    """The tracking id that a reply address names, when its token is right; None for any other address.

    Mail systems may change the case of a local part, so it is compared without case (tracking ids are upper case).
    """
    local = address.strip().rpartition("@")[0]
    _, plus, tag = local.partition("+")
    tracking_id, dot, token = tag.rpartition(".")
    if not plus or not dot or not tracking_id or not token:
        return None
    tracking_id = tracking_id.upper()
    if not hmac.compare_digest(token.lower().encode(), reply_token(tracking_id, secret).encode()):
        return None
    return tracking_id


def has_case_tag(address: str) -> bool:
    """Whether the address looks like a case's reply address (a `+tag` with a dot), whatever its token."""
    local = address.strip().rpartition("@")[0]
    return "." in local.partition("+")[2]
