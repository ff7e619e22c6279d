"""One request's heavy work must not freeze every call (issue 15, finding 3).

The event loop that serves a request also carries every call's signaling. Checking a large staff file
is CPU work that grows with the file; done on the loop, every other request waits for it. Here a large
file is checked while health checks are sent one after another: the server must keep answering them
while the check is under way.
"""

from __future__ import annotations

import asyncio

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from server.platform.clock import FixedClock
from tests.conftest import Seeded
from tests.helpers import csrf_token, login_as

ANSWERS_WHILE_CHECKING = 35
"""Health checks the checking of the file must add to those answered during its upload alone: off the
loop some 50 to 100 are answered; on the loop only the page render after it adds some 15 to 25."""


def staff_csv(rows: int) -> bytes:
    """A staff file as an HR system exports it: ``rows`` nurses of one municipality, all valid."""
    lines = ["brukernavn;navn;rolle;organisasjon;yrke;e-post;telefon"]
    lines += [f"ansatt{i};Ansatt Nummer {i};sykepleier;Rødøy kommune;sykepleier;ansatt{i}@rodoy.kommune.no;"
              for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


async def _answered_while(client: TestClient, task: asyncio.Task[object]) -> int:
    """Health checks answered, one after another, before ``task`` ends."""
    answered = 0
    while not task.done():
        resp = await client.get("/healthz")
        assert resp.status == 200
        answered += 1 if not task.done() else 0
    return answered


async def _check_staff_file(client: TestClient, token: str, data: bytes) -> tuple[int, str, int]:
    """Check a staff file; its status, page and the health checks answered meanwhile."""
    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field("mode", "check")
    form.add_field("file", data, filename="ansatte.csv", content_type="text/csv")

    async def check() -> tuple[int, str]:
        resp = await client.post("/admin/users/import", data=form, allow_redirects=False)
        return resp.status, await resp.text()

    task: asyncio.Task[tuple[int, str]] = asyncio.create_task(check())
    answered = await _answered_while(client, task)  # type: ignore[arg-type]
    status, text = await task
    return status, text, answered


async def test_health_checks_are_answered_while_a_large_staff_file_is_checked(
        client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    """The same upload twice: once refused at its first byte (a NUL makes it unreadable), once checked
    row by row. Health checks answered during the upload itself are alike in both; the checking of
    5,000 rows must add more (on the loop, it would add none)."""
    await login_as(client, "admin", clock)
    token = await csrf_token(client, "/admin/users/import")
    data = staff_csv(5000)
    status, _text, upload_only = await _check_staff_file(client, token, b"\x00" + data[1:])
    assert status == 422
    status, text, checked = await _check_staff_file(client, token, data)
    assert status == 200, text[:2000]
    assert "ansatt4999" in text  # the checked file comes back to be imported
    assert checked >= upload_only + ANSWERS_WHILE_CHECKING, (
        f"{checked} health checks answered while the file was checked, {upload_only} for the upload alone")
