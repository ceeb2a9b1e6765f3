"""Secrets, hashes and sealing: API keys, receipts, and personal data encrypted at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

RECEIPT_BYTES = 20  # 160 bits
MAX_RECEIPT_LENGTH = 200
"""The longest receipt anyone checks (as typed, with spaces and dashes): a longer one opens nothing, unhashed."""


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret (API key, receipt). Safe without a slow KDF at >=128 bits."""
    return hashlib.sha256(secret.encode()).hexdigest()


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of a low-entropy value (a phone number, an address): without the key, not reversible by guessing."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def secrets_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_api_key(kind: str) -> str:
    """A key such as `sk_agency_<43 chars>`: 256 random bits behind a readable kind."""
    return f"sk_{kind}_{secrets.token_urlsafe(32)}"


def key_prefix(key: str) -> str:
    """What listings show of a key: enough to recognise it, far too little to use it."""
    kind_end = key.index("_", 3) if key.startswith("sk_") and "_" in key[3:] else 0
    return key[: kind_end + 7]


def new_receipt() -> str:
    """A receipt of 160 random bits, as 32 base32 characters in groups of four (easy to read aloud)."""
    raw = base64.b32encode(secrets.token_bytes(RECEIPT_BYTES)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


_MISREAD = str.maketrans("01", "OI")
"""Base32 (A-Z, 2-7) has no 0 or 1: a receipt typed with them means the letters O and I."""


def normalize_receipt(receipt: str) -> str:
    """The receipt as it was issued, from what people type: any case, spaces or no dashes, 0 for O and 1 for I."""
    return "".join(ch for ch in receipt.upper().translate(_MISREAD) if ch.isalnum())


def hash_receipt(receipt: str) -> str:
    return hash_secret(normalize_receipt(receipt))


def generate_fernet_key() -> str:
    return Fernet.generate_key().decode()


class Sealer:
    """Encrypts with the newest key, decrypts with any of them (key rotation)."""

    def __init__(self, keys: list[str]):
        if not keys:
            raise ValueError("at least one encryption key is required")
        fernets = [Fernet(k.encode()) for k in keys]
        self._newest = fernets[0]
        self._fernet = MultiFernet(fernets)

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: no key matches") from exc

    def reseal(self, token: str) -> str:
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: no key matches") from exc

    def is_current(self, token: str) -> bool:
        """Whether the newest key sealed it (re-sealing would change nothing but the nonce)."""
        try:
            self._newest.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def seal_optional(self, plaintext: str | None) -> str | None:
        return None if plaintext is None else self.seal(plaintext)

    def open_optional(self, token: str | None) -> str | None:
        return None if token is None else self.open(token)
