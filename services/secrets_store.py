"""Secrets the embedded hub keeps in its data folder (0600): each service's encryption keys, the broker key rings
(`identity`, `contact`; see shared.identity), the first admin key's hash only, the broker's passwords (one per
service, and `ops`; see services.nats_users), the pages' secret, the reply addresses' secret and the secret an
SMS gateway signs its calls with (`sms_signing_secret`). Key lists are newest first: the newest encrypts, any
decrypts."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from services.nats_users import OPS, USERS
from services.registry import ServiceSpec
from shared.auth.keys import check_bootstrap_key
from shared.crypto import generate_fernet_key, hash_secret, new_api_key

FILE_NAME = "secrets.json"
CHANNELS = ("identity", "contact", "files")


@dataclass
class HubSecrets:
    encryption_keys: dict[str, list[str]]
    channel_keys: dict[str, list[str]]
    admin_key_hash: str
    nats_passwords: dict[str, str]
    """Plaintext: the services need them to connect. The broker's config holds their bcrypt hashes where it can."""
    new_admin_key: str | None = None
    """Set only on the run that generated the admin key: it is printed once and never stored."""
    web_secret: str = ""
    """The pages' secret (services/web): it signs their forms' CSRF tokens and seals their receipt cookie."""
    reply_secret: str = ""
    """What the per-case reply addresses' tokens are made with: notify writes them, the email door reads them."""
    sms_signing_secret: str = ""
    """What the SMS gateway signs its calls to intake with (docs/channels.md); the operator copies it to the gateway."""


def load_or_create(data_dir: Path, services: list[str], given_admin_key: str | None) -> HubSecrets:
    path = data_dir / FILE_NAME
    stored: dict[str, object] = json.loads(path.read_text()) if path.exists() else {}
    keys: dict[str, list[str]] = dict(stored.get("encryption_keys", {}))  # type: ignore[call-overload]
    for name in services:
        keys.setdefault(name, [generate_fernet_key()])
    channels: dict[str, list[str]] = dict(stored.get("channel_keys", {}))  # type: ignore[call-overload]
    for channel in CHANNELS:
        channels.setdefault(channel, [generate_fernet_key()])
    passwords: dict[str, str] = dict(stored.get("nats_passwords", {}))  # type: ignore[call-overload]
    for user in USERS:
        passwords.setdefault(user, secrets.token_urlsafe(32))
    web_secret = stored.get("web_secret")
    if not isinstance(web_secret, str) or len(web_secret) < 32:
        web_secret = secrets.token_urlsafe(48)
    reply_secret = stored.get("reply_secret")
    if not isinstance(reply_secret, str) or not reply_secret:
        reply_secret = secrets.token_urlsafe(32)
    sms_secret = stored.get("sms_signing_secret")
    if not isinstance(sms_secret, str) or not sms_secret:
        sms_secret = secrets.token_urlsafe(32)
    new_key: str | None = None
    if given_admin_key:
        check_bootstrap_key(given_admin_key)
        admin_hash = hash_secret(given_admin_key)
    elif isinstance(stored.get("admin_key_hash"), str):
        admin_hash = str(stored["admin_key_hash"])
    else:
        new_key = new_api_key("admin")
        admin_hash = hash_secret(new_key)
    data_dir.mkdir(parents=True, exist_ok=True)
    content = {
        **stored,
        "encryption_keys": keys,
        "channel_keys": channels,
        "admin_key_hash": admin_hash,
        "nats_passwords": passwords,
        "web_secret": web_secret,
        "reply_secret": reply_secret,
        "sms_signing_secret": sms_secret,
    }
    _write(path, content)
    return HubSecrets(
        encryption_keys=keys,
        channel_keys=channels,
        admin_key_hash=admin_hash,
        nats_passwords=passwords,
        new_admin_key=new_key,
        web_secret=web_secret,
        reply_secret=reply_secret,
        sms_signing_secret=sms_secret,
    )


def key_env(spec: ServiceSpec, secrets: HubSecrets) -> dict[str, str]:
    """A service's keys as its environment takes them: its own, and the broker rings it holds."""
    env = {f"{spec.env_prefix}ENCRYPTION_KEYS": ",".join(secrets.encryption_keys[spec.name])}
    for channel in spec.channels:
        env[f"{spec.env_prefix}{channel.upper()}_KEYS"] = ",".join(secrets.channel_keys[channel])
    if spec.name == "intake" and secrets.sms_signing_secret:
        env[f"{spec.env_prefix}SMS_SIGNING_SECRET"] = secrets.sms_signing_secret
    return env


def stored_secrets(data_dir: Path) -> HubSecrets | None:
    """What the data folder holds, without creating anything; None when it holds nothing."""
    path = data_dir / FILE_NAME
    if not path.exists():
        return None
    stored = json.loads(path.read_text())
    return HubSecrets(
        encryption_keys=stored.get("encryption_keys", {}),
        channel_keys=stored.get("channel_keys", {}),
        admin_key_hash=stored.get("admin_key_hash", ""),
        nats_passwords=stored.get("nats_passwords", {}),
        web_secret=stored.get("web_secret", ""),
        reply_secret=stored.get("reply_secret", ""),
        sms_signing_secret=stored.get("sms_signing_secret", ""),
    )


def stored_nats_password(data_dir: Path, user: str) -> str | None:
    """A broker user's password from the data folder, without creating anything; None when there is none."""
    path = data_dir / FILE_NAME
    if not path.exists():
        return None
    password = json.loads(path.read_text()).get("nats_passwords", {}).get(user)
    return password if isinstance(password, str) else None


def stored_encryption_keys(data_dir: Path, service: str) -> list[str]:
    """A service's encryption keys from the data folder, newest first; [] when there are none."""
    path = data_dir / FILE_NAME
    if not path.exists():
        return []
    keys = json.loads(path.read_text()).get("encryption_keys", {}).get(service, [])
    return [str(k) for k in keys]


def stored_channel_keys(data_dir: Path, channel: str) -> list[str]:
    """A shared ring's keys (`identity`, `contact`, `files`) from the data folder, newest first; [] when none."""
    path = data_dir / FILE_NAME
    if not path.exists():
        return []
    keys = json.loads(path.read_text()).get("channel_keys", {}).get(channel, [])
    return [str(k) for k in keys]


def add_channel_key(data_dir: Path, channel: str) -> None:
    """Put a new key in front of a shared ring (the older ones stay, to open what they sealed)."""
    path = data_dir / FILE_NAME
    stored = json.loads(path.read_text())
    rings = stored.setdefault("channel_keys", {})
    rings[channel] = [generate_fernet_key(), *rings.get(channel, [])]
    _write(path, stored)


def ops_credentials(data_dir: Path) -> tuple[str | None, str | None]:
    """SIMPUL_NATS_USER and SIMPUL_NATS_PASSWORD when set, else the data folder's `ops` user (`simpul up` made it)."""
    user = os.environ.get("SIMPUL_NATS_USER")
    if user:
        return user, os.environ.get("SIMPUL_NATS_PASSWORD")
    password = stored_nats_password(data_dir, OPS)
    return (OPS, password) if password is not None else (None, None)


def stored_door_key(data_dir: Path, door: str) -> str | None:
    """The channel key `simpul up` issued for a door (`email`); None when it has none yet."""
    path = data_dir / FILE_NAME
    if not path.exists():
        return None
    key = json.loads(path.read_text()).get("door_keys", {}).get(door)
    return key if isinstance(key, str) else None


def store_door_key(data_dir: Path, door: str, key: str) -> None:
    """Keep a door's channel key (the door presents it, so the key itself is kept, in this 0600 file)."""
    path = data_dir / FILE_NAME
    stored = json.loads(path.read_text())
    stored.setdefault("door_keys", {})[door] = key
    _write(path, stored)


def add_encryption_key(data_dir: Path, service: str) -> None:
    """Put a new key in front of a service's encryption keys (the older ones stay, to open what they sealed)."""
    path = data_dir / FILE_NAME
    stored = json.loads(path.read_text())
    keys = stored.setdefault("encryption_keys", {})
    keys[service] = [generate_fernet_key(), *keys.get(service, [])]
    _write(path, stored)


def _write(path: Path, content: dict[str, object]) -> None:
    tmp = path.with_suffix(".tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(json.dumps(content, indent=2))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
