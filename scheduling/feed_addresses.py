"""Which network addresses a calendar feed may be fetched from.

A coordinator types the feed address, so the server must not become a way to reach what only it can
reach: its own port, the database, the cloud metadata service or the trust's internal network. Only
public addresses are allowed, unless a trust lists its own internal calendar server in
``SAMKONSULT_CALENDAR_FEED_ALLOWED_HOSTS`` (host names or networks in CIDR form).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ranges that ipaddress' is_global does not already rule out but that must never be a feed: CGNAT
# (RFC 6598) is marked neither private nor global, and NAT64 and 6to4 can wrap any IPv4 address (also a
# private one) that a gateway on the way would then reach.
_NEVER_PUBLIC: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("100.64.0.0/10"),
    ipaddress.ip_network("2002::/16"),
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
)


def parse_address(text: str) -> IPAddress | None:
    """``text`` as an IP address (brackets and an IPv6 zone are allowed), or None if it is a name."""
    candidate = text.strip().removeprefix("[").removesuffix("]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def _unwrapped(address: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) IPv6
    address, else the address itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        # IPv4-compatible (::a.b.c.d, deprecated) still reaches the IPv4 host on some stacks
        if int(address) >> 32 == 0 and int(address) > 1:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_public_address(address: IPAddress) -> bool:
    """True only for a globally routable unicast address (no loopback, private, CGNAT, link-local,
    multicast, unspecified, reserved, ULA, documentation, or a mapped form of any of these)."""
    inner = _unwrapped(address)
    if inner.is_multicast or inner.is_unspecified or inner.is_loopback or inner.is_link_local:
        return False
    if inner.is_private or inner.is_reserved or not inner.is_global:
        return False
    return not any(inner in network for network in _NEVER_PUBLIC if network.version == inner.version)


def _normal_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


@dataclass(frozen=True)
class FeedAddressPolicy:
    """Public addresses, plus the host names and networks a trust allows for its own calendar server."""

    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> FeedAddressPolicy:
        """Build from setting entries: ``calendar.hf.example`` or ``10.20.0.0/16`` (a bare address is a /32)."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            entry = entry.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.removeprefix("[").removesuffix("]"), strict=False))
            except ValueError:
                if not valid_host_name(entry):
                    raise ValueError(f"{entry!r} is neither a host name nor an address range") from None
                hosts.add(_normal_host(entry))
        return cls(frozenset(hosts), tuple(networks))

    def host_allowed(self, host: str) -> bool:
        """True if the URL's host is named in the allow-list (then every address it resolves to is fine)."""
        return _normal_host(host) in self.allowed_hosts

    def address_allowed(self, address: IPAddress) -> bool:
        """True for a public address or one inside an allowed network."""
        if is_public_address(address):
            return True
        inner = _unwrapped(address)
        return any(inner in network for network in self.allowed_networks if network.version == inner.version)


def valid_host_name(name: str) -> bool:
    """A DNS host name of letters, digits and hyphens (no wildcards, no spaces, no URL syntax)."""
    labels = _normal_host(name).split(".")
    return 0 < len(name) <= 253 and all(
        0 < len(label) <= 63 and label[0] != "-" and label[-1] != "-"
        and all(c.isascii() and (c.isalnum() or c == "-") for c in label)
        for label in labels)
