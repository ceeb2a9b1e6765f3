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
    with reserve_port(host) as held:
        return int(held.getsockname()[1])


def reserve_port(host: str = "127.0.0.1") -> socket.socket:
    """A free port (drawn as free_port draws), held by a bound socket that never listens.

    Nothing else can bind it while the socket is open. The server meant for it still can: the socket allows
    address reuse, which a server's own bind also asks for (asyncio's and uvloop's do), and a port with no listener
    on it admits both. Close the socket once the port need not stay held."""
    below = _ephemeral_start()
    draws = [random.randrange(LOWEST, below) for _ in range(ATTEMPTS)] if below is not None and below > LOWEST else []
    for port in [*draws, 0]:
        held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            held.bind((host, port))  # without address reuse: refused if anything at all holds the port
        except OSError:
            held.close()
            continue
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        return held
    raise OSError(f"no free port on {host}")


def _ephemeral_start() -> int | None:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
