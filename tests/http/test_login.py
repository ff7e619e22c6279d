"""Login with password and TOTP, enrolment, throttling, idle expiry, logout, language."""

from __future__ import annotations

import re
from datetime import timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.people import totp
from server.people.appkeys import ACCOUNTS
from server.people.models import User
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import DEMO_TOTP_SECRET, Seeded
from tests.helpers import csrf_token, login


def code(clock: FixedClock) -> str:
    return totp.current_code(DEMO_TOTP_SECRET, clock.now())


async def test_login_with_password_and_totp_reaches_role_start_page(client: TestClient, seeded: Seeded,
                                                                     clock: FixedClock) -> None:
    token = await csrf_token(client)
    resp = await client.post("/login", data={"csrf_token": token, "username": "lege",
                                             "password": "demo-passord-2026"}, allow_redirects=False)
    assert resp.headers["Location"] == "/login/totp"
    # Half logged in: no access to health data yet.
    resp = await client.get("/api/patients")
    assert resp.status == 401
    resp = await client.post("/login/totp", data={"csrf_token": token, "code": "000000"}, allow_redirects=False)
    assert resp.status == 401
    assert "Feil kode" in await resp.text() or "koden" in (await resp.text()).lower()
    resp = await client.post("/login/totp", data={"csrf_token": token, "code": code(clock)},
                             allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/day"
    resp = await client.get("/api/me")
    assert resp.status == 200
    assert (await resp.json())["role"] == "specialist"


async def test_a_totp_code_works_only_once(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    await login(client, "lege", code(clock))
    token = await csrf_token(client, "/account")
    await client.post("/logout", data={"csrf_token": token})
    token = await csrf_token(client)
    await client.post("/login", data={"csrf_token": token, "username": "lege", "password": "demo-passord-2026"})
    resp = await client.post("/login/totp", data={"csrf_token": token, "code": code(clock)}, allow_redirects=False)
    assert resp.status == 401
    clock.advance(timedelta(seconds=30))
    resp = await client.post("/login/totp", data={"csrf_token": token, "code": code(clock)}, allow_redirects=False)
    assert resp.status == 303


async def test_wrong_password_keeps_username_and_says_why(client: TestClient, seeded: Seeded) -> None:
    token = await csrf_token(client)
    resp = await client.post("/login", data={"csrf_token": token, "username": "lege", "password": "feil"})
    assert resp.status == 401
    text = await resp.text()
    assert 'value="lege"' in text
    assert "Feil brukernavn eller passord" in text


async def test_101st_failed_login_in_an_hour_is_refused(client: TestClient, seeded: Seeded,
                                                        clock: FixedClock) -> None:
    throttle = client.app[ACCOUNTS].throttle
    now = clock.now()
    clock.current = now - timedelta(minutes=59)
    for _ in range(100):
        throttle.record_failure("lege", "127.0.0.1")
        clock.advance(timedelta(seconds=1))
    clock.current = now
    token = await csrf_token(client)
    # Even the right password is refused from this address while the name is locked here.
    resp = await client.post("/login", data={"csrf_token": token, "username": "lege",
                                             "password": "demo-passord-2026"}, allow_redirects=False)
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) > 0
    # An hour after those failures the account opens again.
    clock.advance(timedelta(minutes=2))
    resp = await client.post("/login", data={"csrf_token": token, "username": "lege",
                                             "password": "demo-passord-2026"}, allow_redirects=False)
    assert resp.status == 303


async def test_failures_are_counted_and_delay_grows(client: TestClient, seeded: Seeded) -> None:
    token = await csrf_token(client)
    statuses = []
    for _ in range(8):
        resp = await client.post("/login", data={"csrf_token": token, "username": "lege", "password": "wrong"})
        statuses.append(resp.status)
    assert statuses[:5] == [401] * 5
    assert 429 in statuses[5:]
    count = client.app[ACCOUNTS].throttle.failures("lege", "127.0.0.1")
    assert 5 <= count < 8  # throttled attempts are refused before the password is checked


async def test_first_login_enrols_totp_with_a_qr_code(client: TestClient, seeded: Seeded, db: Database,
                                                      clock: FixedClock) -> None:
    async with db.session() as session:
        user = (await session.execute(select(User).where(User.username == "leder"))).scalar_one()
        user.totp_confirmed = False
        user.totp_secret_encrypted = None
    token = await csrf_token(client)
    resp = await client.post("/login", data={"csrf_token": token, "username": "leder",
                                             "password": "demo-passord-2026"}, allow_redirects=False)
    assert resp.headers["Location"] == "/login/enrol"
    resp = await client.get("/login/enrol")
    page = await resp.text()
    assert "<svg" in page
    secret = re.search(r"<code>([A-Z2-7]+)</code>", page)
    assert secret
    resp = await client.post("/login/enrol", data={"csrf_token": token, "code": "123456"}, allow_redirects=False)
    assert resp.status == 422
    resp = await client.post("/login/enrol", data={
        "csrf_token": token, "code": totp.current_code(secret.group(1), clock.now())}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/team"
    async with db.session() as session:
        user = (await session.execute(select(User).where(User.username == "leder"))).scalar_one()
        assert user.totp_confirmed


async def test_session_expires_after_30_idle_minutes(client: TestClient, seeded: Seeded,
                                                     clock: FixedClock) -> None:
    await login(client, "koordinator", code(clock))
    assert (await client.get("/api/me")).status == 200
    clock.advance(timedelta(minutes=29))
    assert (await client.get("/api/me")).status == 200
    clock.advance(timedelta(minutes=31))
    assert (await client.get("/api/me")).status == 401


async def test_session_lifetime_is_12_hours(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    await login(client, "koordinator", code(clock))
    for _ in range(28):  # 11 h 40 min, never idle for 30 min
        clock.advance(timedelta(minutes=25))
        assert (await client.get("/api/me")).status == 200
    clock.advance(timedelta(minutes=25))  # 12 h 5 min since login
    assert (await client.get("/api/me")).status == 401


async def test_logout_ends_the_session(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    await login(client, "koordinator", code(clock))
    token = await csrf_token(client, "/account")
    resp = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert resp.status == 303
    assert (await client.get("/api/me")).status == 401


async def test_password_change(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    await login(client, "koordinator", code(clock))
    token = await csrf_token(client, "/account")
    resp = await client.post("/account/password", data={
        "csrf_token": token, "old_password": "wrong", "new_password": "a-new-password-1",
        "repeat_password": "a-new-password-1"})
    assert resp.status == 422
    resp = await client.post("/account/password", data={
        "csrf_token": token, "old_password": "demo-passord-2026", "new_password": "a-new-password-1",
        "repeat_password": "a-new-password-1"}, allow_redirects=False)
    assert resp.status == 303


async def test_language_switch(client: TestClient, seeded: Seeded) -> None:
    resp = await client.get("/login")
    assert 'lang="nb"' in await resp.text()
    assert "Logg inn" in await resp.text()
    token = await csrf_token(client)
    resp = await client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/login"},
                             allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login"
    resp = await client.get("/login")
    text = await resp.text()
    assert 'lang="en"' in text and "Log in" in text
    resp = await client.post("/language", data={"csrf_token": token, "lang": "xx"})
    assert resp.status == 422


async def test_open_redirect_is_not_followed(client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    token = await csrf_token(client)
    resp = await client.post("/login", data={"csrf_token": token, "username": "koordinator",
                                             "password": "demo-passord-2026", "next": "//evil.example/"},
                             allow_redirects=False)
    assert resp.headers["Location"] == "/login/totp"
