"""Secrets the embedded hub keeps in its data folder: encryption keys, and the first admin key's hash only."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from shared.crypto import generate_fernet_key, hash_secret, new_api_key

FILE_NAME = "secrets.json"


@dataclass
class HubSecrets:
    encryption_keys: dict[str, list[str]]
    admin_key_hash: str
    new_admin_key: str | None = None
    """Set only on the run that generated the admin key: it is printed once and never stored."""


def load_or_create(data_dir: Path, services: list[str], given_admin_key: str | None) -> HubSecrets:
    path = data_dir / FILE_NAME
    stored: dict[str, object] = json.loads(path.read_text()) if path.exists() else {}
    keys: dict[str, list[str]] = dict(stored.get("encryption_keys", {}))  # type: ignore[call-overload]
    for name in services:
        keys.setdefault(name, [generate_fernet_key()])
    new_key: str | None = None
    if given_admin_key:
        admin_hash = hash_secret(given_admin_key)
    elif isinstance(stored.get("admin_key_hash"), str):
        admin_hash = str(stored["admin_key_hash"])
    else:
        new_key = new_api_key("admin")
        admin_hash = hash_secret(new_key)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"encryption_keys": keys, "admin_key_hash": admin_hash}, indent=2))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return HubSecrets(encryption_keys=keys, admin_key_hash=admin_hash, new_admin_key=new_key)
