"""Finding 8: logins tell nobody which accounts exist, and a stranger cannot lock the owner out.

Before, only real accounts were ever throttled (so a 429 proved an account existed), and nine wrong
guesses from one address made the owner's right password fail from another. Now a name that is no
account gets the same answer as a wrong password for a real one and is throttled alike, and failures
count per (name, client address) and per address. The client addresses are real: the test connects
from two loopback addresses, and no forwarded-for header is trusted.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from server.app import create_app
from server.people import passwords
from server.people.appkeys import ACCOUNTS
from server.platform.clock import FixedClock
from server.platform.settings import Settings
from tests.conftest import Seeded
from tests.helpers import DEMO_PASSWORD, LoopbackSecureJar, csrf_token
from tests.security.clients import another_browser

REAL = "lege"
UNKNOWN = "lege.finnes.ikke"
# Headers that differ by the moment of asking, not by the account.
_MOMENTARY = {"date", "content-length"}


async def _try(client: TestClient, token: str, username: str, password: str) -> ClientResponse:
    return await client.post("/login", data={"csrf_token": token, "username": username, "password": password},
                             allow_redirects=False)


async def _answer(resp: ClientResponse, username: str) -> tuple[int, str, dict[str, str]]:
    """What a client can tell from an answer, with the username it typed (echoed in the form) blanked out."""
    body = (await resp.text()).replace(f'value="{username}"', 'value="…"')
    headers = {k.lower(): v for k, v in resp.headers.items() if k.lower() not in _MOMENTARY}
    return resp.status, body, headers


async def test_an_unknown_name_is_answered_exactly_like_a_wrong_password(client: TestClient,
                                                                         seeded: Seeded) -> None:
    token = await csrf_token(client)
    real = await _answer(await _try(client, token, REAL, "feil-passord-1"), REAL)
    unknown = await _answer(await _try(client, token, UNKNOWN, "feil-passord-1"), UNKNOWN)
    assert real[0] == 401
    assert real == unknown
    assert re.search(r"Feil brukernavn eller passord", real[1])


async def test_unknown_names_are_throttled_exactly_like_real_ones(client: TestClient, seeded: Seeded) -> None:
    token = await csrf_token(client)
    answers = {}
    for name in (REAL, UNKNOWN):
        answers[name] = [await _answer(await _try(client, token, name, "feil-passord-1"), name) for _ in range(8)]
    statuses = [status for status, _body, _headers in answers[REAL]]
    assert statuses[:5] == [401] * 5 and 429 in statuses[5:]
    assert answers[REAL] == answers[UNKNOWN]
    # Throttled answers carry the same Retry-After for both (the clock stands still here).
    assert [h.get("retry-after") for _s, _b, h in answers[REAL]] == [h.get("retry-after")
                                                                    for _s, _b, h in answers[UNKNOWN]]


async def test_a_strangers_guesses_never_lock_the_owner_out(client: TestClient, seeded: Seeded,
                                                           clock: FixedClock) -> None:
    async with another_browser(client, source_address="127.0.0.2") as stranger:
        token = await csrf_token(stranger)
        statuses = []
        for attempt in range(9):
            if attempt:
                clock.advance(timedelta(seconds=2 ** attempt))  # wait out each delay, so every guess counts
            statuses.append((await _try(stranger, token, REAL, f"gjetning-{attempt}-x")).status)
        assert statuses == [401] * 9
        throttle = client.app[ACCOUNTS].throttle
        assert throttle.failures(REAL, "127.0.0.2") == 9
        # The stranger's address must now wait, even with the right password ...
        resp = await _try(stranger, token, REAL, DEMO_PASSWORD)
        assert resp.status == 429 and int(resp.headers["Retry-After"]) > 0

    # ... while the owner, from their own address, gets in at once.
    owner_token = await csrf_token(client)
    resp = await _try(client, owner_token, REAL, DEMO_PASSWORD)
    assert resp.status == 303, await resp.text()
    assert resp.headers["Location"].startswith("/login/totp")


async def test_the_hourly_lock_holds_only_where_the_guesses_came_from(client: TestClient, seeded: Seeded,
                                                                     clock: FixedClock) -> None:
    throttle = client.app[ACCOUNTS].throttle
    for _ in range(client.app[ACCOUNTS].failed_login_limit):
        throttle.record_failure(REAL, "127.0.0.2")
    async with another_browser(client, source_address="127.0.0.2") as stranger:
        resp = await _try(stranger, await csrf_token(stranger), REAL, DEMO_PASSWORD)
        assert resp.status == 429
        assert int(resp.headers["Retry-After"]) > 15 * 60  # locked for the rest of the hour
    resp = await _try(client, await csrf_token(client), REAL, DEMO_PASSWORD)
    assert resp.status == 303


async def test_one_address_spraying_many_names_is_slowed_too(client: TestClient, seeded: Seeded) -> None:
    async with another_browser(client, source_address="127.0.0.3") as sprayer:
        token = await csrf_token(sprayer)
        statuses = [(await _try(sprayer, token, f"navn{i}", "feil-passord-1")).status for i in range(25)]
        assert statuses[:20] == [401] * 20
        assert 429 in statuses[20:]
    # Another address is not affected.
    resp = await _try(client, await csrf_token(client), REAL, DEMO_PASSWORD)
    assert resp.status == 303


async def test_an_unknown_name_costs_the_same_password_check(client: TestClient, seeded: Seeded,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # Timing is not asserted (tests assert behaviour); what makes the timing equal is: one real
    # Argon2id verification for every checked try, whether or not the name is an account.
    checks: list[str | None] = []
    real_verify = passwords.verify_password

    def counting_verify(stored_hash: str | None, password: str) -> bool:
        checks.append(stored_hash)
        return real_verify(stored_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting_verify)
    token = await csrf_token(client)
    for name in (REAL, UNKNOWN):
        checks.clear()
        assert (await _try(client, token, name, "feil-passord-1")).status == 401
        assert len(checks) == 1, name


@pytest.fixture
async def behind_proxy(aiohttp_client, settings: Settings, clock: FixedClock) -> TestClient:  # type: ignore[no-untyped-def]
    """The app as run behind a reverse proxy on this machine, named in SAMKONSULT_TRUSTED_PROXIES."""
    app = create_app(replace(settings, trusted_proxies=("127.0.0.1",)), clock=clock)
    return await aiohttp_client(app, cookie_jar=LoopbackSecureJar())


async def test_behind_a_trusted_proxy_the_forwarded_client_counts(behind_proxy: TestClient, seeded: Seeded) -> None:
    client = behind_proxy
    token = await csrf_token(client)
    stranger = {"X-Forwarded-For": "198.51.100.7"}
    statuses = [(await client.post("/login", headers=stranger, allow_redirects=False, data={
        "csrf_token": token, "username": REAL, "password": "feil-passord-1"})).status for _ in range(8)]
    assert 429 in statuses[5:]
    # A spoofed hop left of what the proxy appended changes nothing for the stranger ...
    resp = await client.post("/login", headers={"X-Forwarded-For": "203.0.113.5, 198.51.100.7"},
                             allow_redirects=False,
                             data={"csrf_token": token, "username": REAL, "password": DEMO_PASSWORD})
    assert resp.status == 429
    # ... while the owner, another client behind the same proxy, gets in.
    resp = await client.post("/login", headers={"X-Forwarded-For": "203.0.113.5"}, allow_redirects=False,
                             data={"csrf_token": token, "username": REAL, "password": DEMO_PASSWORD})
    assert resp.status == 303, await resp.text()


async def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(client: TestClient, seeded: Seeded) -> None:
    token = await csrf_token(client)
    for attempt in range(8):
        # A guesser who writes a new address each time does not escape the count of their real address.
        await client.post("/login", headers={"X-Forwarded-For": f"198.51.100.{attempt}"}, allow_redirects=False,
                          data={"csrf_token": token, "username": REAL, "password": "feil-passord-1"})
    resp = await client.post("/login", headers={"X-Forwarded-For": "203.0.113.5"}, allow_redirects=False,
                             data={"csrf_token": token, "username": REAL, "password": DEMO_PASSWORD})
    assert resp.status == 429
