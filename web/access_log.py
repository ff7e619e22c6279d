"""The access log, one line a request, without the secrets and free text that travel in addresses.

A calendar feed's token is the only credential of ``/feeds/{token}.ics``, so it never reaches a log;
query strings carry the reasons people state for opening a patient, a national identity number in the
audit log's filter and the note socket's CSRF token, so their values are never written either (the
names are, for operators). aiohttp's own access log writes the whole request line; ``samkonsult
serve`` uses this one instead.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse
from yarl import URL

REDACTED = "[redacted]"
# Paths whose rest is a credential. Leading slashes and case do not matter: a calendar client that
# asks for //FEEDS/<token>.ics must not have its token written down either.
_SECRET_PATH = re.compile(r"/+feeds/", re.IGNORECASE)
# The parameter names our pages and API use; anything else a client put there is not written either.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")


def loggable_path(url: URL) -> str:
    """The path as sent (still percent-encoded, so no control character reaches the log), or
    ``/feeds/[redacted]`` for a feed's path however it was spelt (the router reads the decoded path, so
    ``/%66eeds/<token>.ics`` is a feed too)."""
    if _SECRET_PATH.match(url.raw_path) or _SECRET_PATH.match(unquote(url.raw_path)):
        return f"/feeds/{REDACTED}"
    return url.raw_path


def loggable_target(url: URL) -> str:
    """The path and the names of the query's parameters, every value replaced by ``[redacted]``."""
    path = loggable_path(url)
    query = url.raw_query_string
    if not query:
        return path
    names = (part.split("=", 1)[0] for part in query.split("&") if part)
    return f"{path}?" + "&".join(f"{name if _PLAIN_NAME.fullmatch(name) else REDACTED}={REDACTED}"
                                 for name in names)


class AccessLogger(AbstractAccessLogger):
    """``remote "METHOD target HTTP/x.y" status bytes seconds``, with ``loggable_target``."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s HTTP/%d.%d" %d %d %.3fs', request.remote or "-", request.method,
                         loggable_target(request.rel_url), request.version.major, request.version.minor,
                         response.status, response.body_length, time)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
