"""Free loopback ports."""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 20000
ATTEMPTS = 50


def free_port(host: str = "127.0.0.1") -> int:
    """A port free now, drawn below the kernel's ephemeral range where one is known: a port the kernel hands out
    to outgoing connections could be taken by one between this call and the server binding it."""
    below = _ephemeral_start()
    if below is not None and below > LOWEST:
        for _ in range(ATTEMPTS):
            port = random.randrange(LOWEST, below)
            if _bindable(host, port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _ephemeral_start() -> int | None:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
