"""Finding 2: the page after login, two-factor, enrolment and language choice never leaves the site.

The probe's ``"/\\t/evil.example"`` went through because aiohttp strips the tab and answers
``Location: //evil.example``. Every crafted value below is sent through each of the four routes of the
running app; the answer must send the browser to a page of ours (the start page or the login page),
while an honest local path is still honoured.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.people import totp
from server.people.models import User
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import DEMO_TOTP_SECRET, Seeded
from tests.helpers import DEMO_PASSWORD, csrf_token
from web.safe_next import safe_next

HOSTILE = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\t\\evil.example",
    "//evil.example",
    "//evil.example/login",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "https://evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "/%2F/evil.example",
    "/%2f/evil.example",
    "/%5Cevil.example",
    "/%5c/evil.example",
    "/%09/evil.example",
    "/%0A/evil.example",
    "/%252F/evil.example",
    "%2F%2Fevil.example",
    "/\u3000/evil.example",
    "/\x7f/evil.example",
]
HONEST = "/calendar?week=2026-W48"


def _as_a_browser_reads_it(location: str) -> str:
    # WHATWG URL parsing drops tabs and newlines and reads a backslash as a slash.
    return re.sub(r"[\t\n\r]", "", location).replace("\\", "/").strip()


def assert_stays_on_site(location: str, expected: str) -> None:
    read = _as_a_browser_reads_it(location)
    parts = urlsplit(read)
    assert not parts.scheme and not parts.netloc, location
    assert read.startswith("/") and not read.startswith("//"), location
    assert location == expected, location


def test_the_check_itself_refuses_every_hostile_value_and_keeps_honest_paths() -> None:
    for target in HOSTILE:
        assert safe_next(target) is None, target
    for target in (HONEST, "/", "/day", "/notes/abc-123?tab=plan#measures", "/search?q=a+b"):
        assert safe_next(target) == target


def _code(clock: FixedClock) -> str:
    clock.advance(timedelta(seconds=31))  # each TOTP code is taken once
    return totp.current_code(DEMO_TOTP_SECRET, clock.now())


async def _logout(client: TestClient, token: str) -> None:
    resp = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert resp.status == 303


async def test_login_and_two_factor_never_redirect_off_site(client: TestClient, seeded: Seeded,
                                                           clock: FixedClock) -> None:
    for target in [*HOSTILE, HONEST]:
        token = await csrf_token(client)
        resp = await client.post("/login", data={"csrf_token": token, "username": "koordinator",
                                                 "password": DEMO_PASSWORD, "next": target},
                                 allow_redirects=False)
        assert resp.status == 303, target
        if target == HONEST:
            parts = urlsplit(resp.headers["Location"])
            assert parts.path == "/login/totp" and parse_qs(parts.query) == {"next": [HONEST]}
        else:
            assert_stays_on_site(resp.headers["Location"], "/login/totp")
        resp = await client.post("/login/totp", data={"csrf_token": token, "code": _code(clock), "next": target},
                                 allow_redirects=False)
        assert resp.status == 303, target
        assert_stays_on_site(resp.headers["Location"], HONEST if target == HONEST else "/referrals")
        await _logout(client, await csrf_token(client, "/account"))


async def _forget_two_factor(db: Database, username: str) -> None:
    async with db.session() as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one()
        user.totp_confirmed = False
        user.totp_secret_encrypted = None


async def test_enrolment_never_redirects_off_site(client: TestClient, seeded: Seeded, db: Database,
                                                  clock: FixedClock) -> None:
    for target in [*HOSTILE, HONEST]:
        await _forget_two_factor(db, "leder")
        token = await csrf_token(client)
        resp = await client.post("/login", data={"csrf_token": token, "username": "leder",
                                                 "password": DEMO_PASSWORD}, allow_redirects=False)
        assert resp.headers["Location"] == "/login/enrol"
        page = await (await client.get("/login/enrol")).text()
        secret = re.search(r"<code>([A-Z2-7]+)</code>", page)
        assert secret
        clock.advance(timedelta(seconds=31))
        resp = await client.post("/login/enrol", data={
            "csrf_token": token, "code": totp.current_code(secret.group(1), clock.now()), "next": target,
        }, allow_redirects=False)
        assert resp.status == 303, target
        assert_stays_on_site(resp.headers["Location"], HONEST if target == HONEST else "/team")
        await _logout(client, await csrf_token(client, "/account"))


@pytest.mark.parametrize("logged_in", [False, True])
async def test_language_choice_never_redirects_off_site(client: TestClient, seeded: Seeded, clock: FixedClock,
                                                        logged_in: bool) -> None:
    fallback = "/login"
    if logged_in:
        token = await csrf_token(client)
        await client.post("/login", data={"csrf_token": token, "username": "koordinator",
                                          "password": DEMO_PASSWORD}, allow_redirects=False)
        await client.post("/login/totp", data={"csrf_token": token, "code": _code(clock)}, allow_redirects=False)
        fallback = "/referrals"
    for target in [*HOSTILE, HONEST]:
        token = await csrf_token(client, "/account" if logged_in else "/login")
        resp = await client.post("/language", data={"csrf_token": token, "lang": "en", "next": target},
                                 allow_redirects=False)
        assert resp.status == 303, target
        assert_stays_on_site(resp.headers["Location"], HONEST if target == HONEST else fallback)
