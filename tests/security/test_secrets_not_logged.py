"""Finding 10: no secret or free text from an address in the log, and no version in ``Server``.

Before, the calendar feed's token (its only credential) was written whole to the access log on every
fetch, the reasons people state for opening a patient travelled in query strings into the same log,
and every answer named the aiohttp and Python versions. The server here is the real one, started as
``make run`` starts it, and its log is what an operator would keep.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.helpers import DEMO_PASSWORD, LoopbackSecureJar
from tests.serverproc import Server, running_server

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FEED_URL = re.compile(r'class="feed-url">([^<]+)<')
_RESOURCE = re.compile(r'name="resource_id" value="(\d+)"')
# What a doctor types as the reason for opening a patient: health information about the patient.
REASON = "Oppfølging etter hjerteinfarkt, mistanke om depresjon"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Demo logins without the second factor: the test is about what reaches the log, not about logging in.
    with running_server(tmp_path_factory.mktemp("served"), SAMKONSULT_DEMO_RELAX_TOTP="true") as served:
        yield served


async def _csrf(session: aiohttp.ClientSession, path: str) -> str:
    async with session.get(path) as resp:
        found = _CSRF.search(await resp.text())
    assert found, f"no CSRF token on {path}"
    return found.group(1)


async def _raw(port: int, request: bytes) -> bytes:
    """What the server answers to bytes written straight to its socket."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    answer = await reader.read(65536)
    writer.close()
    await writer.wait_closed()
    return answer


async def _use_the_server(base_url: str) -> tuple[str, str]:
    """A doctor makes a calendar feed, a calendar program fetches it, and the doctor opens a patient with
    a reason (through the API and the page). Returns the feed's token and the patient's id."""
    async with aiohttp.ClientSession(base_url, cookie_jar=LoopbackSecureJar()) as doctor:
        token = await _csrf(doctor, "/login")
        async with doctor.post("/login", data={"csrf_token": token, "username": "lege",
                                               "password": DEMO_PASSWORD}, allow_redirects=False) as resp:
            assert resp.status == 303, await resp.text()
        token = await _csrf(doctor, "/calendar/feeds")
        async with doctor.get("/calendar/feeds") as resp:
            resource = _RESOURCE.search(await resp.text())
        assert resource, "the doctor has no calendar of their own"
        async with doctor.post("/calendar/feeds", data={"csrf_token": token, "resource_id": resource.group(1),
                                                        "label": "Mobilen"}) as resp:
            feed = _FEED_URL.search(await resp.text())
        assert resp.status == 200 and feed, "no feed address on the page"
        feed_path = urlsplit(feed.group(1)).path
        async with doctor.get("/api/patients") as resp:
            patient = (await resp.json())[0]["id"]
        async with doctor.get(f"/api/patients/{patient}", params={"reason": REASON}) as resp:
            assert resp.status == 200, await resp.text()
        async with doctor.get(f"/patients/{patient}", params={"reason": REASON}) as resp:
            assert resp.status == 200
    async with aiohttp.ClientSession(base_url) as calendar_program:
        async with calendar_program.get(feed_path) as resp:
            assert resp.status == 200 and "BEGIN:VCALENDAR" in await resp.text()
    # Other spellings of the address: whatever the answer, the token is not written down either.
    for spelling in ("//FEEDS/", "/%66eeds/"):
        other = feed_path.replace("/feeds/", spelling)
        await _raw(int(urlsplit(base_url).port or 0), f"GET {other} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return feed_path.removeprefix("/feeds/").removesuffix(".ics"), patient


def _logged_requests(server: Server) -> list[str]:
    return [line for line in server.log().splitlines() if " aiohttp.access: " in line]


def test_the_access_log_holds_neither_the_feed_token_nor_the_reason(server: Server) -> None:
    feed_token, patient = asyncio.run(_use_the_server(server.base_url))
    log = server.log()
    assert feed_token not in log
    for words in (REASON, REASON.split(",")[0], "hjerteinfarkt", "depresjon", "Oppf%C3%B8lging"):
        assert words not in log
    # The requests are still in the log, for operators: what was asked, not the secrets in it.
    lines = _logged_requests(server)
    assert any('"GET /feeds/[redacted] HTTP/1.1" 200' in line for line in lines), lines
    assert any(f'"GET /api/patients/{patient}?reason=[redacted] HTTP/1.1" 200' in line for line in lines), lines


async def _server_headers(base_url: str) -> dict[str, str | None]:
    async with aiohttp.ClientSession(base_url) as session:
        seen = {}
        for path in ("/login", "/static/app.css", "/no/such/page", "/api/no-such-thing", "/metrics"):
            async with session.get(path) as resp:
                seen[path] = resp.headers.get("Server")
        async with session.post("/join", data={"code": "x"}) as resp:  # refused: no CSRF token
            seen["POST /join"] = resp.headers.get("Server")
        return seen


def test_no_answer_names_the_library_or_its_version(server: Server) -> None:
    seen = asyncio.run(_server_headers(server.base_url))
    assert seen == dict.fromkeys(seen, "Samkonsult")
    # Requests so malformed that aiohttp answers them itself, before any of the app's code runs.
    port = int(urlsplit(server.base_url).port or 0)
    for request in (b"NOT-HTTP\r\n\r\n", b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n"):
        answer = asyncio.run(_raw(port, request))
        assert re.match(rb"HTTP/1\.[01] 400 ", answer) and b"\r\nServer: Samkonsult\r\n" in answer, answer
        assert b"aiohttp" not in answer.lower() and b"python" not in answer.lower(), answer
