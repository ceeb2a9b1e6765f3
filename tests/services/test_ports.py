"""Free ports for the hub's processes: outside the range the kernel gives outgoing connections."""

from __future__ import annotations

import socket

from services.ports import _ephemeral_start, free_port


def test_a_free_port_is_bindable_and_below_the_ephemeral_range() -> None:
    below = _ephemeral_start()
    ports = {free_port() for _ in range(20)}
    assert len(ports) > 1, "drawn at random"
    for port in ports:
        if below is not None:
            assert port < below
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))


def test_a_taken_port_is_not_handed_out() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        held = taken.getsockname()[1]
        assert all(free_port() != held for _ in range(200))
