"""Secrets the embedded hub keeps in its data folder (0600): encryption keys, the first admin key's hash only, and
the broker's passwords (one per service, and `ops`; see services.nats_users)."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from services.nats_users import USERS
from shared.crypto import generate_fernet_key, hash_secret, new_api_key

FILE_NAME = "secrets.json"


@dataclass
class HubSecrets:
    encryption_keys: dict[str, list[str]]
    admin_key_hash: str
    nats_passwords: dict[str, str]
    """Plaintext: the services need them to connect. The broker's config holds their bcrypt hashes where it can."""
    new_admin_key: str | None = None
    """Set only on the run that generated the admin key: it is printed once and never stored."""


def load_or_create(data_dir: Path, services: list[str], given_admin_key: str | None) -> HubSecrets:
    path = data_dir / FILE_NAME
    stored: dict[str, object] = json.loads(path.read_text()) if path.exists() else {}
    keys: dict[str, list[str]] = dict(stored.get("encryption_keys", {}))  # type: ignore[call-overload]
    for name in services:
        keys.setdefault(name, [generate_fernet_key()])
    passwords: dict[str, str] = dict(stored.get("nats_passwords", {}))  # type: ignore[call-overload]
    for user in USERS:
        passwords.setdefault(user, secrets.token_urlsafe(32))
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
    content = {**stored, "encryption_keys": keys, "admin_key_hash": admin_hash, "nats_passwords": passwords}
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(json.dumps(content, indent=2))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return HubSecrets(encryption_keys=keys, admin_key_hash=admin_hash, nats_passwords=passwords, new_admin_key=new_key)


def stored_nats_password(data_dir: Path, user: str) -> str | None:
    """A broker user's password from the data folder, without creating anything; None when there is none."""
    path = data_dir / FILE_NAME
    if not path.exists():
        return None
    password = json.loads(path.read_text()).get("nats_passwords", {}).get(user)
    return password if isinstance(password, str) else None
