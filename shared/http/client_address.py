"""Who the client is: the peer, or, behind trusted proxies, the right-most untrusted X-Forwarded-For address."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Client:
    address: IPAddress | None
    """Who the limits count; None only when there is no usable peer address at all."""
    stand_in: bool = False
    """A trusted proxy that did not name its client (no X-Forwarded-For, or an entry that is not an address): the
    limits count it, as one client for all it forwards so, and never exempt it."""


def identify_client(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> Client:
    """The client, read from X-Forwarded-For only when the peer is a trusted proxy, and from the right.

    Each proxy appends the address it saw, so the first untrusted one is the furthest that a trusted proxy vouches
    for. Anything left of it could have been made up by the client. A chain of trusted addresses names its leftmost.
    A walk that stops at a trusted proxy for want of an address (none given, or not an address) has no client: the
    proxy stands in for it.
    """
    address = _address(peer) if peer else None
    if address is None or not is_within(address, trusted):
        return Client(address)
    hops = [hop for line in forwarded_for for hop in line.split(",") if hop.strip()]
    if not hops:
        return Client(address, stand_in=True)
    for hop in reversed(hops):
        forwarded = _address(hop)
        if forwarded is None:
            return Client(address, stand_in=True)
        address = forwarded
        if not is_within(address, trusted):
            return Client(address)
    return Client(address)


def resolve_client(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> IPAddress | None:
    """The client's address (see identify_client); None only when there is no usable peer address at all."""
    return identify_client(peer, forwarded_for, trusted).address


@lru_cache(maxsize=4096)
def client_key(address: IPAddress | None) -> str:
    """The key that limits count a client by: its IPv4 address, or its IPv6 /64."""
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


def request_client(connection: HTTPConnection, trusted: Sequence[IPNetwork]) -> Client:
    """identify_client for a Starlette request."""
    peer = connection.client.host if connection.client else None
    return identify_client(peer, connection.headers.getlist("x-forwarded-for"), trusted)
