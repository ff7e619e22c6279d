"""Finding 7: a password change (or an administrator's reset) logs out the user's other browsers.

Whoever learnt the old password may already sit in a session of their own; changing the password
must end it. The browser making the change goes on, with a new session token. The current password
cannot be "changed" to itself.
"""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from server.people.sessions import COOKIE_NAME
from server.platform.clock import FixedClock
from tests.conftest import Seeded
from tests.helpers import DEMO_PASSWORD, api_headers, csrf_token, login_as
from tests.security.clients import another_browser

NEW_PASSWORD = "et-helt-nytt-passord-7"


def _session_cookie(client: TestClient) -> str:
    values = [c.value for c in client.session.cookie_jar if c.key == COOKIE_NAME]
    assert len(values) == 1
    return values[0]


async def _logged_in(client: TestClient) -> bool:
    return (await client.get("/api/me")).status == 200


async def test_changing_the_password_ends_the_other_sessions(client: TestClient, seeded: Seeded,
                                                             clock: FixedClock) -> None:
    async with another_browser(client) as attacker:
        token = await login_as(client, "koordinator", clock)
        await login_as(attacker, "koordinator", clock)  # say, someone who had learnt the old password
        assert await _logged_in(client) and await _logged_in(attacker)
        old_cookie = _session_cookie(client)

        resp = await client.post("/account/password", data={
            "csrf_token": token, "old_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD}, allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"] == "/account?saved=1"

        # The other browser's next request finds itself logged out.
        assert not await _logged_in(attacker)
        resp = await attacker.get("/account", allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"].startswith("/login")
        # The browser that made the change goes on, on a new token; a copy of the old cookie is worthless.
        assert await _logged_in(client)
        assert _session_cookie(client) != old_cookie
        async with another_browser(client) as copy:
            copy.session.cookie_jar.update_cookies({COOKIE_NAME: old_cookie})
            assert not await _logged_in(copy)

        # Only the new password logs in now.
        login_token = await csrf_token(attacker)
        resp = await attacker.post("/login", data={"csrf_token": login_token, "username": "koordinator",
                                                   "password": DEMO_PASSWORD}, allow_redirects=False)
        assert resp.status == 401


async def test_the_current_password_cannot_be_set_again(client: TestClient, seeded: Seeded,
                                                        clock: FixedClock) -> None:
    async with another_browser(client) as other:
        token = await login_as(client, "koordinator", clock)
        await login_as(other, "koordinator", clock)
        resp = await client.post("/account/password", data={
            "csrf_token": token, "old_password": DEMO_PASSWORD, "new_password": DEMO_PASSWORD,
            "repeat_password": DEMO_PASSWORD}, allow_redirects=False)
        assert resp.status == 422
        assert "Velg et nytt passord, ikke det du har nå." in await resp.text()
        # A refused change ends nothing: both browsers are still in.
        assert await _logged_in(client) and await _logged_in(other)
        # and the password is what it was.
        resp = await client.post("/account/password", data={
            "csrf_token": token, "old_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD}, allow_redirects=False)
        assert resp.status == 303


async def test_an_administrators_reset_ends_every_session_of_the_user(client: TestClient, seeded: Seeded,
                                                                      clock: FixedClock) -> None:
    async with another_browser(client) as admin, another_browser(client) as second:
        admin_token = await login_as(admin, "admin", clock)
        await login_as(client, "koordinator", clock)
        await login_as(second, "lege", clock)

        resp = await admin.post(f"/api/users/{seeded.users['koordinator']}/reset-password",
                                headers=api_headers(admin_token))
        assert resp.status == 200, await resp.text()
        assert not await _logged_in(client)

        resp = await admin.post(f"/api/users/{seeded.users['lege']}/reset-two-factor",
                                headers=api_headers(admin_token))
        assert resp.status == 200, await resp.text()
        assert not await _logged_in(second)
        assert await _logged_in(admin)  # the administrator's own session is untouched
