"""Who the client is: the peer, or, behind trusted proxies, the right-most untrusted X-Forwarded-For address."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from starlette.requests import HTTPConnection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

IPV6_CLIENT_PREFIX = 64
"""An IPv6 client is its /64: one subscriber usually holds a whole /64, and could otherwise change address at will."""


def parse_networks(spec: str) -> tuple[IPNetwork, ...]:
    """Comma-separated addresses or networks ("127.0.0.1, ::1, 10.0.0.0/8"); raises ValueError on a bad one."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


@lru_cache(maxsize=4096)  # a busy hub sees the same few proxies and clients again and again
def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_within(address: IPAddress | None, networks: Iterable[IPNetwork]) -> bool:
    return address is not None and any(address in network for network in networks)


def resolve_client(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> IPAddress | None:
    """The client's address; None only when there is no usable peer address at all.

    X-Forwarded-For is read only when the peer is a trusted proxy, from the right: each proxy appends the address it
    saw, so the first untrusted one is the furthest that a trusted proxy vouches for. Anything left of it could have
    been made up by the client. An entry that is not an address ends the walk at the last trusted hop.
    """
    address = _address(peer) if peer else None
    if address is None or not is_within(address, trusted):
        return address
    hops = [hop for line in forwarded_for for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        forwarded = _address(hop)
        if forwarded is None:
            return address
        address = forwarded
        if not is_within(address, trusted):
            return address
    return address


@lru_cache(maxsize=4096)
def client_key(address: IPAddress | None) -> str:
    """The key that limits count a client by: its IPv4 address, or its IPv6 /64."""
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


def request_client(connection: HTTPConnection, trusted: Sequence[IPNetwork]) -> IPAddress | None:
    """resolve_client for a Starlette request."""
    peer = connection.client.host if connection.client else None
    return resolve_client(peer, connection.headers.getlist("x-forwarded-for"), trusted)
