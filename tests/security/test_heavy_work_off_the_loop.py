"""One request's heavy work must not freeze every call (issue 15, finding 3).

The event loop that serves a request also carries every call's signaling. Reading and checking a large
staff file is CPU work that grows with the file; done on the loop, every other request waits for it.
Here a file of 5,000 staff is checked through the admin page while health checks are sent one after
another, and the two CPU-heavy steps (reading the table, checking its rows) record the thread they ran
in: never the loop's, and the loop answered health checks meanwhile.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from server.people import staff_import
from server.platform.clock import FixedClock
from tests.conftest import Seeded
from tests.helpers import csrf_token, login_as


def staff_csv(rows: int) -> bytes:
    """A staff file as an HR system exports it: ``rows`` nurses of one municipality, all valid."""
    lines = ["brukernavn;navn;rolle;organisasjon;yrke;e-post;telefon"]
    lines += [f"ansatt{i};Ansatt Nummer {i};sykepleier;Rødøy kommune;sykepleier;ansatt{i}@rodoy.kommune.no;"
              for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _recording(threads: dict[str, int], name: str, work: Callable[..., Any]) -> Callable[..., Any]:
    """``work`` as it is, noting the thread it runs in under ``name``."""
    def run(*args: Any, **kwargs: Any) -> Any:
        threads[name] = threading.get_ident()
        return work(*args, **kwargs)
    return run


async def test_a_large_staff_file_is_read_and_checked_off_the_loop(
        client: TestClient, seeded: Seeded, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: dict[str, int] = {}
    monkeypatch.setattr(staff_import, "_read_table", _recording(threads, "read", staff_import._read_table))
    monkeypatch.setattr(staff_import.StaffImport, "_check_rows",
                        _recording(threads, "check", staff_import.StaffImport._check_rows))
    await login_as(client, "admin", clock)
    token = await csrf_token(client, "/admin/users/import")
    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field("mode", "check")
    form.add_field("file", staff_csv(5000), filename="ansatte.csv", content_type="text/csv")

    async def check() -> tuple[int, str]:
        resp = await client.post("/admin/users/import", data=form, allow_redirects=False)
        return resp.status, await resp.text()

    task = asyncio.create_task(check())
    answered = 0
    while not task.done():
        assert (await client.get("/healthz")).status == 200
        answered += 1
    status, text = await task
    assert status == 200, text[:2000]
    assert "ansatt4999" in text  # the checked file comes back to be imported
    loop_thread = threading.get_ident()  # the test client and the app share this loop, as calls and pages do
    assert set(threads) == {"read", "check"}
    assert loop_thread not in threads.values(), "a heavy step ran on the serving loop"
    assert answered >= 1


async def test_password_hashing_runs_off_the_loop(client: TestClient, seeded: Seeded, clock: FixedClock,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 is 20 to 50 ms of CPU by design: a login, wrong or right, and a password change hash and
    verify in a worker thread, so a crowd logging in at 08:00 does not stall the calls."""
    from server.people import passwords

    threads: dict[str, int] = {}
    monkeypatch.setattr(passwords, "verify_password", _recording(threads, "verify", passwords.verify_password))
    monkeypatch.setattr(passwords, "hash_password", _recording(threads, "hash", passwords.hash_password))
    token = await csrf_token(client)
    resp = await client.post("/login", data={"csrf_token": token, "username": "lege", "password": "feil-passord-1"},
                             allow_redirects=False)
    assert resp.status != 303  # refused
    await login_as(client, "lege", clock)
    token = await csrf_token(client, "/account")
    resp = await client.post("/account/password", data={
        "csrf_token": token, "old_password": "demo-passord-2026", "new_password": "et-nytt-passord-2026",
        "repeat_password": "et-nytt-passord-2026"}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/account?saved=1", await resp.text()
    assert set(threads) == {"verify", "hash"}
    assert threading.get_ident() not in threads.values(), "Argon2 ran on the serving loop"
