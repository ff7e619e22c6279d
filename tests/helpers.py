"""Helpers shared by the HTTP and browser tests."""

from __future__ import annotations

import re
from datetime import timedelta

from aiohttp import CookieJar
from aiohttp.test_utils import TestClient
from yarl import URL

from server.people import totp
from server.platform.clock import FixedClock


class LoopbackSecureJar(CookieJar):
    """A cookie jar that treats the loopback test server as a secure origin, like browsers do."""

    def __init__(self) -> None:
        super().__init__(unsafe=True)

    def filter_cookies(self, request_url: URL = URL()):  # type: ignore[no-untyped-def]
        if request_url.host in {"127.0.0.1", "localhost"} and request_url.scheme == "http":
            request_url = request_url.with_scheme("https")
        return super().filter_cookies(request_url)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of a page (and the cookie it binds to, now in the client's jar)."""
    resp = await client.get(path)
    text = await resp.text()
    match = _CSRF.search(text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


DEMO_PASSWORD = "demo-passord-2026"


async def login(client: TestClient, username: str, code: str, password: str = DEMO_PASSWORD) -> None:
    """Log in with password and TOTP code; fails the test when either step is refused."""
    token = await csrf_token(client)
    resp = await client.post("/login", data={"csrf_token": token, "username": username, "password": password},
                             allow_redirects=False)
    assert resp.status == 303, await resp.text()
    assert resp.headers["Location"].startswith("/login/totp")
    resp = await client.post("/login/totp", data={"csrf_token": token, "code": code}, allow_redirects=False)
    assert resp.status == 303, await resp.text()


async def login_as(client: TestClient, username: str, clock: FixedClock) -> str:
    """Log in as a seeded demo user with a TOTP code; returns the session's CSRF token (for forms and the API).

    The clock moves on one TOTP step first: the server takes each code only once, and a test may log in
    several times.
    """
    from tests.conftest import DEMO_TOTP_SECRET  # here, not at the top: tests.conftest imports this module

    clock.advance(timedelta(seconds=31))
    await login(client, username, totp.current_code(DEMO_TOTP_SECRET, clock.now()))
    return await csrf_token(client, "/account")


def api_headers(token: str) -> dict[str, str]:
    return {"X-CSRF-Token": token}
