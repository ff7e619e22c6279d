"""The access log's target: feed tokens and query values never written, the path kept percent-encoded."""

from __future__ import annotations

import pytest
from yarl import URL

from web.access_log import loggable_target


def _url(target: str) -> URL:
    path, _, query = target.partition("?")
    return URL.build(path=path, query_string=query, encoded=True)  # as aiohttp's parser builds rel_url


@pytest.mark.parametrize(("target", "logged"), [
    ("/feeds/Zx9_token-abc.ics", "/feeds/[redacted]"),
    ("/feeds/Zx9_token-abc.ics?x=1", "/feeds/[redacted]?x=[redacted]"),
    ("//FEEDS/Zx9_token-abc.ics", "/feeds/[redacted]"),
    ("/%66eeds/Zx9_token-abc.ics", "/feeds/[redacted]"),
    ("/feeds%2FZx9_token-abc.ics", "/feeds/[redacted]"),
    ("/api/patients/p-1?reason=Hjerte%20svikt", "/api/patients/p-1?reason=[redacted]"),
    ("/admin/audit?patient=01019912345&from=2026-01-01", "/admin/audit?patient=[redacted]&from=[redacted]"),
    ("/x?Fritekst%20her=1&&flag", "/x?[redacted]=[redacted]&flag=[redacted]"),
    ("/a%0D%0Ab", "/a%0D%0Ab"),
    ("/calendar/feeds", "/calendar/feeds"),
])
def test_what_the_access_log_writes(target: str, logged: str) -> None:
    assert loggable_target(_url(target)) == logged
