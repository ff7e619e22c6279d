"""Which address a request comes from, for throttling: the TCP peer, or what a trusted proxy says.

``X-Forwarded-For`` is anyone's to write, so it is read only when the connection comes from a proxy
named in ``SAMKONSULT_TRUSTED_PROXIES``, and then from the right: each trusted proxy appends the
address it saw, and the first address from the right that is not a trusted proxy is the client.
Everything left of it may be made up by the client and is ignored.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from aiohttp import web

from server.platform.appkeys import SETTINGS

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: web.Request) -> str:
    """The client's address as far as it can be known without trusting what the client wrote."""
    peer = request.remote or "unknown"
    networks = _networks(request.app[SETTINGS].trusted_proxies)
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for value in request.headers.getall("X-Forwarded-For", []) for hop in value.split(",")]
    for hop in reversed(hops):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            return peer  # a hop a trusted proxy would not write: believe no further than the proxy
        if not _trusted(address, networks):
            return address
    return peer
