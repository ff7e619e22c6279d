"""Fetching a resource's own calendar feed over HTTP(S), safely: a coordinator types the address, so
the fetch must not become a way into what only the server can reach.

* Every hop is checked: the host is resolved by :class:`_CheckedResolver`, which hands the connector
  only addresses the :class:`FeedAddressPolicy` allows, so the connection goes to exactly the address
  that was checked (no second lookup a rebinding name server could answer differently). Address
  literals in the URL never reach a resolver, so they are checked before the request.
* Redirects are not followed automatically; at most :data:`MAX_REDIRECTS` are followed by hand, each
  target checked like the first address.
* URLs with a user name or password are refused: a feed's address is shown to every coordinator.
* Time (one deadline for all hops) and size are limited: the body is read in chunks and abandoned
  as soon as it passes the limit.
* Errors come back as :class:`CalendarFetchError` with a stable code and a fixed English sentence;
  nothing the far end sent (status text, body, exception detail) is kept, so the page that shows a
  feed's status can never echo an internal service's answer.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from scheduling.feed_addresses import FeedAddressPolicy, parse_address
from scheduling.ical_import import DEFAULT_MAX_BYTES
from server.platform.errors import DomainError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 15.0
MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

# One fixed sentence per code: the only text stored with a failed fetch (for operators and the log).
FETCH_MESSAGES = {
    "calendar.fetch_url": "a calendar feed must be an http or https URL",
    "calendar.fetch_credentials": "a calendar feed URL must not contain a user name or password",
    "calendar.fetch_refused": "the feed's address is not a public one and is not on the allow-list",
    "calendar.fetch_unreachable": "the calendar server could not be reached or did not give a calendar",
    "calendar.fetch_too_large": "the feed is larger than the size limit",
}


class CalendarFetchError(DomainError):
    """A calendar feed could not be fetched (codes ``calendar.fetch_*``, messages from FETCH_MESSAGES)."""

    code = "calendar.fetch_unreachable"

    @classmethod
    def of(cls, code: str) -> CalendarFetchError:
        """The error for ``code`` with its fixed sentence (never text from the far end)."""
        return cls(FETCH_MESSAGES[code], code=code)


def check_feed_url(url: str, policy: FeedAddressPolicy | None = None) -> str:
    """The URL stripped, or :class:`CalendarFetchError`.

    It must be http(s) with a host and no user name or password. With a ``policy``, a host given as an
    address must be one the policy allows (names are checked when they are resolved, on every fetch).
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port outside 0-65535 or not a number
    except ValueError:
        raise CalendarFetchError.of("calendar.fetch_url") from None
    if parts.scheme not in {"http", "https"} or not hostname:
        raise CalendarFetchError.of("calendar.fetch_url")
    if "@" in parts.netloc:
        raise CalendarFetchError.of("calendar.fetch_credentials")
    if policy is not None and not _literal_host_allowed(hostname, policy):
        raise CalendarFetchError.of("calendar.fetch_refused")
    return url


def _literal_host_allowed(hostname: str, policy: FeedAddressPolicy) -> bool:
    if policy.host_allowed(hostname):
        return True
    address = parse_address(hostname)
    if address is not None:
        return policy.address_allowed(address)
    # "localhost" and its subdomains are loopback by definition (RFC 6761), whatever DNS says
    return not (hostname.rstrip(".").lower() == "localhost" or hostname.rstrip(".").lower().endswith(".localhost"))


def redact_feed_url(url: str) -> str:
    """The URL without any user name or password (addresses stored before those were refused)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


class _CheckedResolver(AbstractResolver):
    """Resolves names and yields only the addresses the policy allows; remembers a refusal."""

    def __init__(self, policy: FeedAddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner or aiohttp.ThreadedResolver()
        self.refused = False

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if self._policy.host_allowed(host):
            return found
        allowed = []
        for result in found:
            address = parse_address(result["host"])
            if address is not None and self._policy.address_allowed(address):
                allowed.append(result)
        if not allowed:
            self.refused = True
            # an OSError is what the connector expects from a resolver; fetch_calendar reads ``refused``
            raise OSError(f"no allowed address for {host!r}")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


async def fetch_calendar(
    url: str,
    *,
    policy: FeedAddressPolicy | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    resolver: AbstractResolver | None = None,
) -> bytes:
    """GET ``url`` and return its body; :class:`CalendarFetchError` on any failure.

    ``policy`` says which addresses may be reached (default: public ones only). ``resolver`` replaces
    the system's name lookup (its answers are still checked against the policy).
    """
    policy = policy or FeedAddressPolicy()
    checked = _CheckedResolver(policy, resolver)
    # use_dns_cache=False: every connection asks the checking resolver; trust_env=False: no proxy from
    # the environment (a proxy would connect on our behalf to an address we never checked), no .netrc.
    connector = aiohttp.TCPConnector(resolver=checked, use_dns_cache=False, limit=2)
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False,
                                         auto_decompress=True) as session:
            # one deadline for the whole fetch, redirects included (the session's timeout is per request)
            async with asyncio.timeout(timeout_seconds):
                return await _follow(session, URL(check_feed_url(url, policy), encoded=False), policy, max_bytes)
    except CalendarFetchError:
        raise
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
        if checked.refused:
            raise CalendarFetchError.of("calendar.fetch_refused") from exc
        log.info("calendar feed fetch failed: %s", type(exc).__name__)
        raise CalendarFetchError.of("calendar.fetch_unreachable") from exc


async def _follow(session: aiohttp.ClientSession, url: URL, policy: FeedAddressPolicy, max_bytes: int) -> bytes:
    for _hop in range(MAX_REDIRECTS + 1):
        async with session.get(url, allow_redirects=False) as resp:
            if resp.status in _REDIRECTS and "Location" in resp.headers:
                target = url.join(URL(resp.headers["Location"]))
                url = URL(check_feed_url(str(target), policy), encoded=True)
                continue
            if resp.status != 200:
                log.info("calendar feed answered HTTP %d", resp.status)
                raise CalendarFetchError.of("calendar.fetch_unreachable")
            return await _read_limited(resp, max_bytes)
    raise CalendarFetchError.of("calendar.fetch_unreachable")


async def _read_limited(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    if resp.content_length is not None and resp.content_length > max_bytes:
        raise CalendarFetchError.of("calendar.fetch_too_large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise CalendarFetchError.of("calendar.fetch_too_large")
        chunks.append(chunk)
    return b"".join(chunks)
