"""The hash chain: what of an entry is hashed, and how. The writer and the verifier both hash what the table holds."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from shared.clock import utc
from shared.db.migration_ops import AUDIT_GENESIS_HASH

GENESIS = AUDIT_GENESIS_HASH
"""The `prev_hash` of the first entry, and the head's hash while the trail is empty."""

HASHED = ("seq", "at", "actor", "action", "target_type", "target_id", "reason", "details")
"""The columns an entry's hash covers (with its prev_hash); not the row id, which only names the row."""


def canonical_time(value: datetime) -> str:
    """UTC to the microsecond (the verifier reads reflected tables, where SQLite gives back naive UTC)."""
    return utc(value).isoformat(timespec="microseconds")


def canonical(prev_hash: str, fields: dict[str, Any]) -> str:
    """Sorted-keys compact JSON of an entry's hashed fields and the hash it links to."""
    body = {name: fields[name] for name in HASHED}
    body["at"] = canonical_time(body["at"])
    body["prev_hash"] = prev_hash
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(prev_hash, fields).encode("utf-8")).hexdigest()


def details_text(details: dict[str, Any] | None) -> str:
    """The stored form of an entry's details: sorted-keys compact JSON, so the hash covers exactly these bytes."""
    return json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
