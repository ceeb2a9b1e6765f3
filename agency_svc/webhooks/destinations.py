"""Where a webhook may point: never into the hub's own networks (SSRF), unless a network is allowed by setting.

Refused by default: every address that is not global, i.e. loopback, private, link-local (cloud metadata at
169.254.169.254 too), shared (100.64/10), multicast, reserved and unspecified ones, IPv4 and IPv6 alike; an
IPv4-mapped IPv6 address counts as its IPv4 address, and a 6to4 one as the IPv4 address it carries too.
`SIMPUL_AGENCY_WEBHOOK_ALLOWED_NETWORKS` lets networks through all the same.

A URL whose host is a literal address is checked when an endpoint is registered or changed. At delivery,
`GuardedTransport` resolves the host, refuses the request when any address it resolves to is refused, and connects to
an address it vetted (TLS still checks the host's name), so a name that resolves elsewhere a moment later (DNS
rebinding) reaches nothing it was not allowed to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpx

from shared.http.client_address import IPAddress, IPNetwork

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

DEFAULT_PORTS = {"http": 80, "https": 443}


class BlockedDestination(Exception):
    """The destination resolves to an address in a refused network."""

    def __init__(self, address: IPAddress):
        super().__init__(f"refused: {address} is in a blocked network")
        self.address = address


def _embedded(address: IPAddress) -> list[IPAddress]:
    """What an address is judged as: an IPv4-mapped one as its IPv4 address; a 6to4 one as itself and the IPv4
    address it carries; any other as itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return [address.ipv4_mapped]
        if address.sixtofour is not None:
            return [address, address.sixtofour]
    return [address]


def _internal(address: IPAddress) -> bool:
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


@dataclass(frozen=True)
class DestinationPolicy:
    """Internal addresses are refused, except those inside `allowed`."""

    allowed: tuple[IPNetwork, ...] = ()

    def is_blocked(self, address: IPAddress) -> bool:
        candidates = _embedded(address)
        if any(a in network for a in candidates for network in self.allowed):
            return False
        return any(_internal(a) for a in candidates)

    def first_blocked(self, addresses: Iterable[IPAddress]) -> IPAddress | None:
        return next((a for a in addresses if self.is_blocked(a)), None)


def literal_address(host: str) -> IPAddress | None:
    """The address a URL's host names by itself, in any form a resolver takes ("10.0.0.5", "::1", "0x7f.1"); None for
    a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))  # the legacy forms: 2130706433, 0x7f.1, 127.1
    except OSError:
        return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to for a TCP connection, in the resolver's order, each once."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: dict[IPAddress, None] = {}
    for *_, sockaddr in infos:
        found.setdefault(ipaddress.ip_address(str(sockaddr[0])), None)
    return list(found)


class GuardedTransport(httpx.AsyncBaseTransport):
    """Sends a request only when every address its host resolves to is allowed, and then to one of those addresses.

    Connections are not kept alive: each one goes to an address vetted for the request it serves.
    """

    def __init__(
        self,
        policy: DestinationPolicy,
        inner: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver = resolve,
    ):
        self.policy = policy
        self.inner = inner or httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
        self.resolver = resolver

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or DEFAULT_PORTS.get(request.url.scheme, 80)
        try:
            addresses = await self.resolver(host, port)
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}", request=request) from exc
        if not addresses:
            raise httpx.ConnectError(f"cannot resolve {host}: no address", request=request)
        blocked = self.policy.first_blocked(addresses)
        if blocked is not None:
            raise BlockedDestination(blocked)
        failure: httpx.TransportError | None = None
        for address in addresses:
            pinned = httpx.Request(
                request.method,
                request.url.copy_with(host=str(address)),
                headers=request.headers,  # Host stays the URL's
                stream=request.stream,
                extensions={**request.extensions, "sni_hostname": host},
            )
            try:
                return await self.inner.handle_async_request(pinned)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                failure = exc  # the next address, as a resolver's client would
        assert failure is not None
        raise failure

    async def aclose(self) -> None:
        await self.inner.aclose()
