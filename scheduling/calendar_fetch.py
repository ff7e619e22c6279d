"""Fetching a resource's own calendar feed over HTTP(S), with a timeout and a size limit.

The body is read in chunks and abandoned as soon as it passes the limit, so a huge or endless
response costs at most ``max_bytes`` of memory. Errors come back as :class:`CalendarFetchError` with a
short, stable code and a message an administrator can act on; the caller keeps the last good import.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import aiohttp

from scheduling.ical_import import DEFAULT_MAX_BYTES
from server.platform.errors import DomainError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 15.0


class CalendarFetchError(DomainError):
    """A calendar feed could not be fetched (codes ``calendar.fetch_*``)."""

    code = "calendar.fetch_failed"


def check_feed_url(url: str) -> str:
    """The URL stripped, or :class:`CalendarFetchError` unless it is an http(s) URL with a host."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise CalendarFetchError("a calendar feed must be an http or https URL", code="calendar.fetch_url")
    return url


async def fetch_calendar(
    url: str,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    client: aiohttp.ClientSession | None = None,
) -> bytes:
    """GET ``url`` and return its body; :class:`CalendarFetchError` on any failure.

    ``client`` may be shared by the caller (the app's client session); otherwise one is made and closed.
    """
    url = check_feed_url(url)
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    own = client is None
    session = client or aiohttp.ClientSession()
    try:
        async with session.get(url, timeout=timeout, allow_redirects=True, max_redirects=5) as resp:
            if resp.status != 200:
                raise CalendarFetchError(f"the feed answered HTTP {resp.status}", code="calendar.fetch_status")
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise CalendarFetchError(f"the feed is larger than {max_bytes} bytes",
                                         code="calendar.fetch_too_large")
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise CalendarFetchError(f"the feed is larger than {max_bytes} bytes",
                                             code="calendar.fetch_too_large")
                chunks.append(chunk)
            return b"".join(chunks)
    except TimeoutError as exc:
        raise CalendarFetchError(f"the feed did not answer within {timeout_seconds:g} s",
                                 code="calendar.fetch_timeout") from exc
    except aiohttp.ClientError as exc:
        log.info("calendar feed fetch failed: %s", exc)
        raise CalendarFetchError(f"the feed could not be fetched: {type(exc).__name__}",
                                 code="calendar.fetch_failed") from exc
    finally:
        if own:
            await session.close()
