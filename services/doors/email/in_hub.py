"""The email door inside `simpul up`: its channel key (issued once through the API, then kept in the data folder's
secrets), its environment, and its supervised process. It starts once the gateway answers, and its trouble never
stops the hub: the banner says what became of it."""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

import httpx

from notify_svc.settings import NotifySettings
from services.secrets_store import HubSecrets, store_door_key, stored_door_key
from services.supervisor import ManagedProcess, Supervisor, child_env, python_module_argv

DOOR = "email"
PACKAGE = "services.doors.email"
DEFAULT_SMTP_PORT = 2525


@dataclass
class EmailDoorPlan:
    """What `simpul up` does about the email door: run it (process set), or say why not (reason)."""

    banner: str
    process: ManagedProcess | None = None


async def issue_channel_key(gateway_url: str, admin_key: str) -> str:
    """A channel key for the door, from the API (an Idempotency-Key makes a retried start get the same key)."""
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(
            f"{gateway_url}/api/v1/hub/api-keys",
            json={"role": "channel", "label": "email door"},
            headers={"Authorization": f"Bearer {admin_key}", "Idempotency-Key": "simpul-up:email-door-key"},
        )
    if answer.status_code != 201:
        raise RuntimeError(f"issuing the email door's channel key answered {answer.status_code}: {answer.text[:200]}")
    return str(answer.json()["key"])


async def channel_key(data_dir: Path, gateway_url: str, admin_key: str | None) -> str | None:
    """SIMPUL_EMAIL_API_KEY, else the key kept in the data folder, else one issued now with the admin key (when this
    run has it) and kept; None when there is no way to have one."""
    given = os.environ.get("SIMPUL_EMAIL_API_KEY")
    if given:
        return given
    kept = stored_door_key(data_dir, DOOR)
    if kept:
        return kept
    if not admin_key:
        return None
    key = await issue_channel_key(gateway_url, admin_key)
    store_door_key(data_dir, DOOR, key)
    return key


def hub_addresses() -> str:
    """The hub's own addresses, which the door must not take mail from: notify's From and the reply address."""
    mail_from = os.environ.get("SIMPUL_NOTIFY_MAIL_FROM") or str(NotifySettings.model_fields["mail_from"].default)
    own = [parseaddr(mail_from)[1], os.environ.get("SIMPUL_NOTIFY_REPLY_ADDRESS", "")]
    return ",".join(a for a in own if a)


def intake_addresses() -> str:
    """The addresses the door takes mail for: SIMPUL_EMAIL_ADDRESSES, else notify's reply address (whose case
    addresses it then takes too), else `lapor@` the domain of notify's From."""
    given = os.environ.get("SIMPUL_EMAIL_ADDRESSES") or os.environ.get("SIMPUL_NOTIFY_REPLY_ADDRESS")
    if given:
        return given
    mail_from = os.environ.get("SIMPUL_NOTIFY_MAIL_FROM") or str(NotifySettings.model_fields["mail_from"].default)
    return "lapor@" + (parseaddr(mail_from)[1].rpartition("@")[2] or "simpul.localhost")


def _port_free(host: str, port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


async def plan_email_door(
    data_dir: Path, gateway_url: str, secrets: HubSecrets, admin_key: str | None, health_port: int
) -> EmailDoorPlan:
    """Whether and how to run the door in this hub."""
    mode = os.environ.get("SIMPUL_EMAIL_SMTP_MODE", "smtp")
    imap = os.environ.get("SIMPUL_EMAIL_IMAP_HOST")
    if mode == "off" and not imap:
        return EmailDoorPlan("off (SIMPUL_EMAIL_SMTP_MODE=off and no SIMPUL_EMAIL_IMAP_HOST)")
    host = os.environ.get("SIMPUL_EMAIL_SMTP_HOST", "127.0.0.1")
    port = int(os.environ.get("SIMPUL_EMAIL_SMTP_PORT", DEFAULT_SMTP_PORT))
    if mode != "off" and not _port_free(host, port):
        return EmailDoorPlan(f"off (port {port} is taken; choose another with SIMPUL_EMAIL_SMTP_PORT)")
    try:
        key = await channel_key(data_dir, gateway_url, admin_key)
    except (httpx.HTTPError, RuntimeError) as exc:
        return EmailDoorPlan(f"off (no channel key: {exc})")
    if key is None:
        return EmailDoorPlan(
            'off (it needs a channel key: issue one, POST /api/v1/hub/api-keys {"role": "channel"}, and set '
            "SIMPUL_EMAIL_API_KEY, or start once with SIMPUL_BOOTSTRAP_ADMIN_KEY)"
        )
    env = {
        "SIMPUL_EMAIL_API_URL": gateway_url,
        "SIMPUL_EMAIL_API_KEY": key,
        "SIMPUL_EMAIL_HOST": "127.0.0.1",
        "SIMPUL_EMAIL_PORT": str(health_port),
        "SIMPUL_EMAIL_SMTP_HOST": host,
        "SIMPUL_EMAIL_SMTP_PORT": str(port),
        "SIMPUL_EMAIL_REPLY_SECRET": secrets.reply_secret,
        "SIMPUL_EMAIL_HUB_ADDRESSES": os.environ.get("SIMPUL_EMAIL_HUB_ADDRESSES") or hub_addresses(),
        "SIMPUL_EMAIL_ADDRESSES": intake_addresses(),
    }
    process = ManagedProcess(
        name="email-door",
        argv=python_module_argv(PACKAGE),
        env=child_env(env),
        port=health_port,
        log_path=data_dir / "logs" / "email-door.log",
    )
    listens = [f"{mode}://{host}:{port}"] if mode != "off" else []
    if imap:
        listens.append(f"imap{'s' if os.environ.get('SIMPUL_EMAIL_IMAP_TLS', 'true') != 'false' else ''}://{imap}")
    return EmailDoorPlan(" and ".join(listens), process)


async def start_email_door(plan: EmailDoorPlan, supervisor: Supervisor) -> str:
    """Start the planned door under `supervisor`; the banner's line about it."""
    if plan.process is None:
        return plan.banner
    try:
        await supervisor.start_all()
    except (RuntimeError, TimeoutError) as exc:
        await supervisor.stop_all()
        return f"off (it did not start: {exc})"
    return plan.banner
