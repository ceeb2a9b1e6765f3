"""A Debian dovecot (dovecot-imapd) of the test's own: a config in a temporary folder, IMAP without TLS on a loopback
port, one passwd-file user, maildirs in the folder; stopped by its PID."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from services.ports import free_port, port_open

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)


@dataclass(frozen=True)
class Dovecot:
    port: int
    user: str
    password: str


def _mail_owner() -> tuple[int, int]:
    """Dovecot will not deliver as root: as root the mail belongs to `nobody`, else to whoever runs the test."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{d}/mail/%u
first_valid_uid = 1
default_login_user = {login_user}
default_internal_user = {internal_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@contextlib.contextmanager
def running_dovecot(directory: Path) -> Iterator[Dovecot]:
    assert DOVECOT is not None
    uid, gid = _mail_owner()
    for sub in ("run", "state", "mail", "home"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    for sub in ("mail", "home"):
        os.chown(directory / sub, uid, gid)
    directory.chmod(0o755)
    port = free_port()
    user, password = "lapor", "rahasia-imap-uji"
    (directory / "users").write_text(f"{user}:{{PLAIN}}{password}::::::\n")
    system_user = "dovenull" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
    internal = "dovecot" if os.getuid() == 0 else system_user
    config = directory / "dovecot.conf"
    config.write_text(
        CONFIG.format(d=directory, uid=uid, gid=gid, port=port, login_user=system_user, internal_user=internal)
    )
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not port_open(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (directory / "dovecot.log").read_text() if (directory / "dovecot.log").exists() else ""
                out = proc.stdout.read().decode() if proc.stdout and proc.poll() is not None else ""
                raise RuntimeError(f"dovecot did not start: {out}\n{log}")
            time.sleep(0.1)
        yield Dovecot(port=port, user=user, password=password)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
