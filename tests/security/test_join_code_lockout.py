"""Finding 6: wrong join codes can no longer shut the real patient out.

Before, thirty wrong codes from three addresses locked the room, and the genuine, unused code typed
from a fourth address got ``429 Retry-After: 600``; behind a reverse proxy every guest shares one
address, so ten guesses locked out everyone. Now the code is checked first: a valid code is accepted
whatever came before it, from any address, and only further *wrong* codes from the address that typed
them are told to wait. The addresses are real (the test connects from several loopback addresses),
and ``X-Forwarded-For`` counts only from a proxy named in ``SAMKONSULT_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from rooms.join_codes import ALPHABET, CODE_LENGTH, format_code
from server.app import create_app
from server.platform.clock import FixedClock
from server.platform.settings import Settings
from tests.conftest import Seeded
from tests.helpers import LoopbackSecureJar, api_headers, csrf_token, login_as
from tests.http.test_booking_page import _book_johan
from tests.security.clients import another_browser

CODE = re.compile(r"[2-9A-HJKMNP-Z]{4}(?:-[2-9A-HJKMNP-Z]{4}){3}")
# Ten minutes before Johan's consultation (10:30 UTC): inside every code's window.
IN_THE_WINDOW = datetime(2026, 12, 1, 10, 20, tzinfo=UTC)


def _wrong_code() -> str:
    return format_code("".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH)))


async def _consultation_with_codes(client: TestClient, seeded: Seeded, clock: FixedClock,
                                   count: int) -> tuple[str, list[str]]:
    """Johan's consultation, booked by the coordinator, and ``count`` genuine codes its nurse made."""
    token = await login_as(client, "koordinator", clock)
    booking = await _book_johan(client, seeded, api_headers(token))
    await client.post("/logout", data={"csrf_token": token})
    token = await login_as(client, "sykepleier.luroy", clock)
    codes = []
    for n in range(count):
        resp = await client.post(f"/bookings/{booking}/join-codes",
                                 data={"csrf_token": token, "name": f"Pårørende {n}", "role": "relative"})
        found = CODE.search(html.unescape(await resp.text()))
        assert resp.status == 200 and found, "no code on the page"
        codes.append(found.group(0))
    await client.post("/logout", data={"csrf_token": token})
    client.session.cookie_jar.clear()  # from here on a guest's browser
    clock.current = IN_THE_WINDOW
    return booking, codes


async def _join(client: TestClient, code: str, room: str = "", headers: dict[str, str] | None = None,
                token: str | None = None) -> ClientResponse:
    token = token or await csrf_token(client, "/join")
    return await client.post("/join", data={"csrf_token": token, "room": room, "code": code},
                             headers=headers or {}, allow_redirects=False)


async def test_guesses_from_many_addresses_never_lock_the_room(client: TestClient, seeded: Seeded,
                                                                clock: FixedClock) -> None:
    """The reported attack: thirty wrong codes aimed at the room from three addresses, then the patient."""
    booking, (genuine,) = await _consultation_with_codes(client, seeded, clock, 1)
    for address in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
        async with another_browser(client, source_address=address) as guesser:
            token = await csrf_token(guesser, "/join")
            statuses = [(await _join(guesser, _wrong_code(), booking, token=token)).status for _ in range(11)]
            assert statuses == [403] * 10 + [429]  # each address is slowed on its own
    async with another_browser(client, source_address="127.0.0.5") as patient:
        resp = await _join(patient, genuine, booking)
        assert resp.status == 303, await resp.text()
        assert resp.headers["Location"] == f"/consultations/{booking}"
        assert (await patient.get(f"/consultations/{booking}")).status == 200


async def test_a_slowed_address_still_gets_in_with_the_right_code(client: TestClient, seeded: Seeded,
                                                                   clock: FixedClock) -> None:
    """A patient who mistyped (or shares a guesser's address) is told to wait for wrong codes only."""
    booking, (first, second) = await _consultation_with_codes(client, seeded, clock, 2)
    async with another_browser(client, source_address="127.0.0.6") as shared:
        token = await csrf_token(shared, "/join")
        for _ in range(10):
            assert (await _join(shared, _wrong_code(), booking, token=token)).status == 403
        slowed = await _join(shared, _wrong_code(), booking, token=token)
        assert slowed.status == 429 and int(slowed.headers["Retry-After"]) > 0
        assert "Vent noen minutter" in await slowed.text()
        # The right code is accepted at once, with or without the room, from the slowed address.
        assert (await _join(shared, first, booking, token=token)).status == 303
    async with another_browser(client, source_address="127.0.0.6") as relative:
        assert (await _join(relative, second)).status == 303
        # A used code is a wrong code like any other: still slowed.
        assert (await _join(relative, second)).status == 429


@pytest.fixture
async def behind_proxy(aiohttp_client, settings: Settings, clock: FixedClock) -> TestClient:  # type: ignore[no-untyped-def]
    """The app as run behind a reverse proxy on this machine, named in SAMKONSULT_TRUSTED_PROXIES."""
    app = create_app(replace(settings, trusted_proxies=("127.0.0.1",)), clock=clock)
    return await aiohttp_client(app, cookie_jar=LoopbackSecureJar())


async def test_behind_a_trusted_proxy_each_guest_counts_alone(behind_proxy: TestClient, seeded: Seeded,
                                                              clock: FixedClock) -> None:
    booking, (genuine,) = await _consultation_with_codes(behind_proxy, seeded, clock, 1)
    token = await csrf_token(behind_proxy, "/join")
    guesser = {"X-Forwarded-For": "198.51.100.7"}
    statuses = [(await _join(behind_proxy, _wrong_code(), booking, guesser, token)).status for _ in range(11)]
    assert statuses[-1] == 429
    # Another guest behind the same proxy, with a wrong code of their own, is not slowed by the guesser...
    other = {"X-Forwarded-For": "203.0.113.5"}
    assert (await _join(behind_proxy, _wrong_code(), booking, other, token)).status == 403
    # ... a hop the guesser wrote left of what the proxy appended changes nothing for them ...
    spoofed = {"X-Forwarded-For": "203.0.113.5, 198.51.100.7"}
    assert (await _join(behind_proxy, _wrong_code(), booking, spoofed, token)).status == 429
    # ... and the genuine code gets in from behind the proxy.
    assert (await _join(behind_proxy, genuine, booking, other, token)).status == 303


async def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(client: TestClient, seeded: Seeded,
                                                                     clock: FixedClock) -> None:
    booking, (genuine,) = await _consultation_with_codes(client, seeded, clock, 1)
    token = await csrf_token(client, "/join")
    statuses = [(await _join(client, _wrong_code(), booking, {"X-Forwarded-For": f"198.51.100.{n}"}, token)).status
                for n in range(11)]
    # A guesser who writes a new address each time does not escape the count of their real address.
    assert statuses == [403] * 10 + [429]
    assert (await _join(client, genuine, booking, {"X-Forwarded-For": "203.0.113.5"}, token)).status == 303
