"""The data folder of `simpul up`: databases, the broker's store, secrets and logs, readable by its owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
"""What this process and every process it starts (services, nats-server) create: folders 0700, files 0600."""


def prepare_data_dir(data_dir: Path) -> list[Path]:
    """Make the folder (0700), tighten what it already holds to its owner, and set the private umask.

    The paths whose modes were tightened; a path owned by another user is left alone (and not listed).
    """
    os.umask(PRIVATE_UMASK)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    tightened: list[Path] = []
    for path in [data_dir, *data_dir.rglob("*")]:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
            continue
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
            tightened.append(path)
    return tightened
