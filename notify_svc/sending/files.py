"""Writing a message as a file, for when no server is configured: atomically, so a crash never leaves half a file."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path


async def write_atomically(directory: Path, name: str, data: bytes) -> None:
    await asyncio.to_thread(_write, directory, name, data)


def _write(directory: Path, name: str, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, directory / name)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
