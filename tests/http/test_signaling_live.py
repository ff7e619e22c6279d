"""The /ws endpoint over real sockets: who gets in, bad frames, floods, waiting room, roster, resume."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from rooms.appkeys import BOOKING_DIRECTORY_FACTORY, JOIN_CODES, LIVE_REGISTRY
from rooms.registry import BookingRoom
from rooms.roster import ParticipantRole
from server.app import create_app
from server.people import totp
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.settings import Settings
from signaling.appkeys import MONOTONIC
from tests.conftest import DEMO_TOTP_SECRET, Seeded
from tests.helpers import LoopbackSecureJar, csrf_token, login

ORIGIN = {"Origin": "http://127.0.0.1"}
SAFETY = 15.0  # only so that a broken test stops; never asserted


class FakeDirectory:
    """Two bookings: room A with the specialist and a nurse, room B with the other nurse."""

    def __init__(self, start: datetime, users: dict[str, int]) -> None:
        end = start + timedelta(minutes=45)
        self.rooms = {
            "room-a-0123456789": BookingRoom(
                "room-a-0123456789", start, end,
                {f"user:{users['lege']}": ParticipantRole.SPECIALIST,
                 f"user:{users['sykepleier.rodoy']}": ParticipantRole.NURSE},
                None, "Astrid Olsen", "Helserom Rødøy", "Kari Nilsen", "Oppfølging"),
            "room-b-0123456789": BookingRoom(
                "room-b-0123456789", start, end,
                {f"user:{users['sykepleier.luroy']}": ParticipantRole.NURSE},
                None, "Johan Pedersen"),
        }

    async def room_for(self, booking_id: str) -> BookingRoom | None:
        return self.rooms.get(booking_id)

    async def rooms_for_staff(self, user_id: int, start: datetime, end: datetime) -> list[BookingRoom]:
        return [r for r in self.rooms.values() if f"user:{user_id}" in r.staff]


ROOM_A, ROOM_B = "room-a-0123456789", "room-b-0123456789"
ROOM_C = "room-c-0123456789"


Factory = Callable[..., Awaitable[TestClient]]


class FakeMonotonic:
    """The sockets' rate-limit clock: stands still unless a test moves it, however slow the machine."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


@pytest.fixture
def monotonic() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
async def live(
    aiohttp_client: Any, settings: Settings, clock: FixedClock, seeded: Seeded, monotonic: FakeMonotonic
) -> AsyncIterator[Factory]:
    """A started app with the fake bookings; call it for one more browser (its own cookie jar)."""
    app = create_app(settings, clock=clock)
    directory = FakeDirectory(clock.now() + timedelta(minutes=5), seeded.users)
    app[BOOKING_DIRECTORY_FACTORY] = lambda _db: directory
    app[MONOTONIC] = monotonic
    first: TestClient = await aiohttp_client(app, cookie_jar=LoopbackSecureJar())
    used = [False]

    async def browser(username: str | None = None) -> TestClient:
        if not used[0]:
            used[0] = True
            client = first
        else:
            client = await aiohttp_client(first.server, cookie_jar=LoopbackSecureJar())
        if username is not None:
            await login(client, username, totp.current_code(DEMO_TOTP_SECRET, clock.now()))
        return client

    yield browser


async def recv(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    async with asyncio.timeout(SAFETY):
        msg = await ws.receive()
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    data: dict[str, Any] = json.loads(msg.data)
    return data


async def recv_type(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    """The next message of this type (others are skipped)."""
    while True:
        data = await recv(ws)
        if data["type"] == kind:
            return data


async def connect(client: TestClient, room: str = ROOM_A) -> aiohttp.ClientWebSocketResponse:
    return await client.ws_connect(f"/ws?room={room}", headers=ORIGIN)


async def join(client: TestClient, room: str = ROOM_A) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    ws = await connect(client, room)
    await ws.send_str(json.dumps({"type": "join", "version": 1}))
    first = await recv(ws)
    assert first["type"] in {"admitted", "waiting"}, first
    return ws, first


async def guest(live: Factory, room: str = ROOM_A, name: str = "Kari Nordmann") -> TestClient:
    """A relative's browser that redeemed a fresh join code for ``room``."""
    client = await live()
    code = await issue_code(client, room, name)
    token = await csrf_token(client, f"/join?room={room}")
    resp = await client.post("/join", data={"csrf_token": token, "room": room, "code": code}, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    return client


async def issue_code(client: TestClient, room: str, name: str = "Kari Nordmann") -> str:
    app = client.server.app
    assert app is not None
    booking = await app[LIVE_REGISTRY].booking(room)
    issued = await app[JOIN_CODES].issue(room_id=room, role=ParticipantRole.RELATIVE, display_name=name,
                                         starts_at=booking.starts_at, ends_at=booking.ends_at, created_by="test")
    return issued.code


# --- who may open a socket ---------------------------------------------------------------------------


async def test_foreign_or_missing_origin_is_refused_before_upgrade(live: Factory) -> None:
    client = await live("lege")
    for headers in ({"Origin": "https://evil.example"}, {}):
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect(f"/ws?room={ROOM_A}", headers=headers)
        assert refused.value.status == 403


async def test_unauthenticated_outsiders_and_guessed_rooms_are_refused(live: Factory) -> None:
    anonymous = await live()
    with pytest.raises(WSServerHandshakeError) as refused:
        await connect(anonymous)
    assert refused.value.status == 401

    outsider = await live("sykepleier.luroy")  # staff, but not on booking A: answered as for no such room
    with pytest.raises(WSServerHandshakeError) as refused:
        await connect(outsider, ROOM_A)
    assert refused.value.status == 404
    with pytest.raises(WSServerHandshakeError) as refused:
        await connect(outsider, "guessed-room-id-0000")
    assert refused.value.status == 404

    relative = await guest(live, ROOM_A)  # a guest session is for its own room only
    with pytest.raises(WSServerHandshakeError) as refused:
        await connect(relative, ROOM_B)
    assert refused.value.status == 403


# --- bad frames -------------------------------------------------------------------------------------


async def test_bad_frames_get_error_frames_and_the_socket_goes_on(live: Factory) -> None:
    client = await live("lege")
    ws, admitted = await join(client)
    me = admitted["participant_id"]
    bad = {
        '{"type":"chat","text":"a","text":"b"}': "bad_json",
        '{"type":"teleport"}': "unknown_type",
        '{"type":"chat","text":"hei","from":"someone-else"}': "impersonation",
        '{"type":"admit","target":"x","participant_id":"other"}': "impersonation",
        "not json at all": "bad_json",
        "[1,2,3]": "not_an_object",
        '{"type":"join","version":1}': "already_joined",
        '{"type":"admit","target":"nobody-here"}': "unknown_participant",
    }
    for frame, code in bad.items():
        await ws.send_str(frame)
        error = await recv_type(ws, "error")
        assert error["code"] == code, (frame, error)
    await ws.send_str(json.dumps({"type": "chat", "text": "Fortsatt her", "ref": "c1"}))
    chat = await recv_type(ws, "chat")
    assert chat["participant_id"] == me and chat["text"] == "Fortsatt her"
    await ws.close()


async def test_ten_megabyte_frame_is_refused_and_the_seat_can_be_resumed(live: Factory) -> None:
    specialist = await live("lege")
    nurse = await live("sykepleier.rodoy")
    ws_s, _ = await join(specialist)
    ws_n, admitted = await join(nurse)
    await ws_n.send_str("x" * (10 * 1024 * 1024))
    async with asyncio.timeout(SAFETY):
        while (await ws_n.receive()).type is aiohttp.WSMsgType.TEXT:
            pass
    assert ws_n.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    # the room goes on for the others, and the nurse still holds the seat
    await ws_s.send_str(json.dumps({"type": "ping", "ref": "p"}))
    pong, nurse_offline = False, False
    while not (pong and nurse_offline):
        message = await recv(ws_s)
        pong = pong or message["type"] == "pong"
        if message["type"] == "roster" and len(message["participants"]) == 2:
            nurse_offline = not all(p["connected"] for p in message["participants"])
    ws_n2 = await connect(nurse)
    await ws_n2.send_str(json.dumps({"type": "resume", "version": 1, "resume_token": admitted["resume_token"]}))
    assert (await recv_type(ws_n2, "resumed"))["participant_id"] == admitted["participant_id"]
    await ws_n2.close()
    await ws_s.close()


async def next_reply(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The next answer to a ping: a pong or an error (roster and other room news are skipped)."""
    while True:
        data = await recv(ws)
        if data["type"] in {"pong", "error"}:
            return data


async def test_flood_is_rate_limited_and_other_rooms_are_unaffected(live: Factory, monotonic: FakeMonotonic) -> None:
    flooder = await live("lege")
    other = await live("sykepleier.luroy")
    ws_a, _ = await join(flooder, ROOM_A)
    ws_b, _ = await join(other, ROOM_B)
    for i in range(100):  # 5x the sustained rate, all within one instant of the rate-limit clock
        await ws_a.send_str(json.dumps({"type": "ping", "ref": f"f{i}"}))
    replies = [await next_reply(ws_a) for _ in range(100)]
    limited = [r for r in replies if r["type"] == "error" and r["code"] == "rate_limited"]
    assert limited and len(limited) < 100
    assert any(r["type"] == "pong" for r in replies)
    await ws_b.send_str(json.dumps({"type": "ping", "ref": "b"}))
    assert (await recv_type(ws_b, "pong"))["ref"] == "b"
    # the flooder is refused while the clock stands still, and served again once it has slowed down
    await ws_a.send_str(json.dumps({"type": "ping", "ref": "too-soon"}))
    assert (await next_reply(ws_a))["code"] == "rate_limited"
    monotonic.advance(1.0)
    await ws_a.send_str(json.dumps({"type": "ping", "ref": "again"}))
    reply = await next_reply(ws_a)
    assert (reply["type"], reply["ref"]) == ("pong", "again"), reply
    await ws_a.close()
    await ws_b.close()


async def test_sustained_flood_closes_the_socket(live: Factory) -> None:
    client = await live("lege")
    ws, _ = await join(client)
    for i in range(600):
        if ws.closed:
            break
        await ws.send_str(json.dumps({"type": "ping", "ref": f"f{i}"}))
    async with asyncio.timeout(SAFETY):
        while (await ws.receive()).type is aiohttp.WSMsgType.TEXT:
            pass
    assert ws.close_code == aiohttp.WSCloseCode.POLICY_VIOLATION


# --- join codes --------------------------------------------------------------------------------------


async def test_join_paths_without_a_good_code_are_refused(live: Factory, clock: FixedClock) -> None:
    client = await live()
    token = await csrf_token(client, f"/join?room={ROOM_A}")

    async def attempt(room: str, code: str) -> int:
        resp = await client.post("/join", data={"csrf_token": token, "room": room, "code": code},
                                 allow_redirects=False)
        return resp.status

    good = await issue_code(client, ROOM_A)
    assert await attempt(ROOM_A, "") == 403  # no code
    assert await attempt(ROOM_A, "ABCD-EFGH-JKMN-PQRS") == 403  # guessed
    assert await attempt(ROOM_B, good) == 403  # another room's code
    assert await attempt("guessed-room-0000000", good) == 403  # a guessed room id
    assert (await client.post("/join", data={"room": ROOM_A, "code": good}, allow_redirects=False)).status == 403
    assert await attempt(ROOM_A, good) == 303  # the real thing
    assert await attempt(ROOM_A, good) == 403  # used
    late = await issue_code(client, ROOM_B)
    clock.advance(timedelta(hours=2))
    assert await attempt(ROOM_B, late) == 403  # expired


async def test_join_attempts_are_rate_limited(live: Factory) -> None:
    client = await live()
    token = await csrf_token(client, f"/join?room={ROOM_A}")
    statuses = []
    for i in range(12):
        resp = await client.post("/join", data={"csrf_token": token, "room": ROOM_A,
                                                "code": f"ABCD-EFGH-JKMN-PQ{i:02d}"[:19]}, allow_redirects=False)
        statuses.append(resp.status)
    assert statuses[-1] == 429


REFUSED = "Koden kan ikke brukes. Sjekk den, eller be om en ny."


async def _plain_join(client: TestClient, token: str, code: str) -> aiohttp.ClientResponse:
    """What a relative does who was told only the code: type it at plain /join."""
    return await client.post("/join", data={"csrf_token": token, "code": code}, allow_redirects=False)


async def test_a_code_alone_at_plain_join_opens_its_own_room(live: Factory) -> None:
    relative = await live()
    code = await issue_code(relative, ROOM_B)
    token = await csrf_token(relative, "/join")
    resp = await _plain_join(relative, token, code.lower().replace("-", " "))
    assert resp.status == 303, await resp.text()
    assert resp.headers["Location"] == f"/consultations/{ROOM_B}"
    assert (await relative.get(f"/consultations/{ROOM_B}")).status == 200
    _ws, first = await join(relative, ROOM_B)
    assert first["type"] == "waiting"
    # The code stays single use at plain /join as everywhere.
    again = await _plain_join(await live(), token, code)
    assert again.status == 403


async def test_plain_join_refuses_wrong_used_and_expired_codes(live: Factory, clock: FixedClock) -> None:
    client = await live()
    token = await csrf_token(client, "/join")
    used = await issue_code(client, ROOM_A)
    assert (await _plain_join(client, token, used)).status == 303
    late = await issue_code(client, ROOM_B)
    bodies = []
    for code in ("ABCD-EFGH-JKMN-PQRS", used, "", "nonsense"):
        resp = await _plain_join(client, token, code)
        assert resp.status == 403
        bodies.append(await resp.text())
        assert REFUSED in bodies[-1]
        assert "room-" not in bodies[-1]  # nothing about any room
    # A guessed code and a used one give the very same page: nobody learns which codes exist.
    assert len(set(bodies[:2])) == 1
    clock.advance(timedelta(hours=2))
    expired = await _plain_join(client, token, late)
    assert expired.status == 403
    assert "Koden er utløpt" in await expired.text()
    # The call page tells staff to send relatives to plain /join.
    staff = await live("lege")
    page = await (await staff.get(f"/consultations/{ROOM_A}")).text()
    config = json.loads(re.search(r'id="call-config">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert config["join_url"].endswith("/join")


async def test_plain_join_is_rate_limited_per_client(live: Factory) -> None:
    client = await live()
    token = await csrf_token(client, "/join")
    good = await issue_code(client, ROOM_A)
    for i in range(10):
        resp = await _plain_join(client, token, f"ABCD-EFGH-JKMN-PQ{i:02d}"[:19])
        assert resp.status == 403
    limited = await _plain_join(client, token, "ABCD-EFGH-JKMN-PQ99")
    assert limited.status == 429
    assert int(limited.headers["Retry-After"]) > 0
    # A good code is still accepted: the limit slows wrong guesses, it never shuts the holder out.
    assert (await _plain_join(client, token, good)).status == 303


async def test_too_early_is_told_the_date_and_time_the_room_opens(live: Factory, clock: FixedClock) -> None:
    client = await live("lege")
    app = client.server.app
    assert app is not None
    directory: FakeDirectory = app[BOOKING_DIRECTORY_FACTORY](None)
    later = dataclasses.replace(directory.rooms[ROOM_A], booking_id=ROOM_C,
                                starts_at=datetime(2026, 12, 1, 10, 30, tzinfo=UTC),  # 11.30 in Oslo
                                ends_at=datetime(2026, 12, 1, 11, 0, tzinfo=UTC))
    directory.rooms[ROOM_C] = later
    page = await (await client.get(f"/consultations/{ROOM_C}")).text()
    strings = json.loads(re.search(r'id="call-strings">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert strings["not_open"] == "Konsultasjonsrommet åpner tirsdag 1. desember kl. 11.15."
    ws = await connect(client, ROOM_C)
    await ws.send_str(json.dumps({"type": "join", "version": 1}))
    assert (await recv_type(ws, "error"))["code"] == "room_not_open"
    # A relative whose code is not valid yet is told from when it is.
    relative = await live()
    code = await issue_code(relative, ROOM_C)
    token = await csrf_token(relative, "/join")
    early = await _plain_join(relative, token, code)
    assert early.status == 403
    assert "Koden kan brukes fra tirsdag 1. desember kl. 11.00." in await early.text()
    # Summer time is Oslo time too: 10.30 UTC is 12.30 in June.
    directory.rooms[ROOM_C] = dataclasses.replace(later, starts_at=datetime(2027, 6, 1, 10, 30, tzinfo=UTC),
                                                  ends_at=datetime(2027, 6, 1, 11, 0, tzinfo=UTC))
    page = await (await client.get(f"/consultations/{ROOM_C}")).text()
    assert "tirsdag 1. juni kl. 12.15" in page


# --- the waiting room, the roster, resume -----------------------------------------------------------


async def test_guest_waits_until_staff_admit_and_then_everyone_sees_the_same_roster(
        live: Factory, db: Database) -> None:
    specialist = await live("lege")
    nurse = await live("sykepleier.rodoy")
    ws_s, _ = await join(specialist)
    ws_n, _ = await join(nurse)
    relative = await guest(live)
    ws_r, waiting = await join(relative)
    assert waiting["type"] == "waiting"
    waiting_list = await recv_type(ws_s, "waiting_list")
    while not waiting_list["participants"]:
        waiting_list = await recv_type(ws_s, "waiting_list")
    assert [p["display_name"] for p in waiting_list["participants"]] == ["Kari Nordmann"]

    # a guest cannot admit themself, nor chat while waiting
    await ws_r.send_str(json.dumps({"type": "admit", "target": waiting["participant_id"]}))
    assert (await recv_type(ws_r, "error"))["code"] == "not_admitted"

    await ws_s.send_str(json.dumps({"type": "admit", "target": waiting["participant_id"]}))
    assert (await recv_type(ws_r, "admitted"))["participant_id"] == waiting["participant_id"]
    rosters = []
    for ws in (ws_s, ws_n, ws_r):
        roster = await recv_type(ws, "roster")
        while len(roster["participants"]) < 3:
            roster = await recv_type(ws, "roster")
        rosters.append(roster["participants"])
    assert rosters[0] == rosters[1] == rosters[2]
    assert {p["role"] for p in rosters[0]} == {"specialist", "nurse", "relative"}

    # chat and readings reach everyone, and are audited
    await ws_n.send_str(json.dumps({"type": "reading", "name": "spo2", "value": 96, "unit": "%",
                                    "taken_at": "2026-11-23T08:04:00+01:00"}))
    for ws in (ws_s, ws_n, ws_r):
        reading = await recv_type(ws, "reading")
        assert (reading["name"], reading["value"]) == ("spo2", 96)
    await ws_r.send_str(json.dumps({"type": "reading", "name": "pulse", "value": 70, "unit": "/min",
                                    "taken_at": "2026-11-23T08:04:00+01:00"}))
    assert (await recv_type(ws_r, "error"))["code"] == "forbidden"
    for ws in (ws_s, ws_n, ws_r):
        await ws.close()
    async with db.session() as session:
        actions = (await session.execute(
            select(AuditEntry.action).where(AuditEntry.object_id == ROOM_A))).scalars().all()
    assert {"joined", "admitted", "reading_posted"} <= set(actions)


async def test_denied_guest_is_told_and_cannot_return(live: Factory) -> None:
    specialist = await live("lege")
    ws_s, _ = await join(specialist)
    relative = await guest(live)
    ws_r, waiting = await join(relative)
    await ws_s.send_str(json.dumps({"type": "deny", "target": waiting["participant_id"]}))
    assert (await recv_type(ws_r, "denied"))["type"] == "denied"
    ws_again = await connect(relative)
    await ws_again.send_str(json.dumps({"type": "join", "version": 1}))
    assert (await recv_type(ws_again, "error"))["code"] == "join_refused"
    await ws_again.close()
    await ws_s.close()


async def test_a_dropped_socket_keeps_the_seat_and_resumes(live: Factory, clock: FixedClock) -> None:
    specialist = await live("lege")
    nurse = await live("sykepleier.rodoy")
    ws_s, _ = await join(specialist)
    ws_n, admitted = await join(nurse)
    await ws_n.close()  # the nurse's network drops
    roster = await recv_type(ws_s, "roster")
    while all(p["connected"] for p in roster["participants"]):
        roster = await recv_type(ws_s, "roster")
    assert len(roster["participants"]) == 2

    ws_n2 = await connect(nurse)
    await ws_n2.send_str(json.dumps({"type": "join", "version": 1, "resume_token": admitted["resume_token"]}))
    resumed = await recv_type(ws_n2, "resumed")
    assert resumed["participant_id"] == admitted["participant_id"]
    assert resumed["resume_token"] != admitted["resume_token"]
    roster = await recv_type(ws_s, "roster")
    assert all(p["connected"] for p in roster["participants"])

    # past the grace period the seat is gone and the old token with it
    await ws_n2.close()
    clock.advance(timedelta(seconds=31))
    app = specialist.server.app
    assert app is not None
    await app[LIVE_REGISTRY].reap_once()
    roster = await recv_type(ws_s, "roster")
    while len(roster["participants"]) != 1:
        roster = await recv_type(ws_s, "roster")
    ws_n3 = await connect(nurse)
    await ws_n3.send_str(json.dumps({"type": "resume", "version": 1, "resume_token": resumed["resume_token"]}))
    assert (await recv_type(ws_n3, "error"))["code"] == "resume_refused"
    await ws_n3.close()
    await ws_s.close()


async def test_staff_end_the_consultation_for_everyone(live: Factory) -> None:
    specialist = await live("lege")
    nurse = await live("sykepleier.rodoy")
    ws_s, _ = await join(specialist)
    ws_n, _ = await join(nurse)
    await ws_s.send_str(json.dumps({"type": "end"}))
    for ws in (ws_s, ws_n):
        assert (await recv_type(ws, "ended"))["reason"] == "ended_by_staff"
    ws_late = await connect(nurse)
    await ws_late.send_str(json.dumps({"type": "join", "version": 1}))
    assert (await recv_type(ws_late, "error"))["code"] == "room_closed"
    await ws_late.close()


async def test_staff_invite_gives_a_code_that_lets_a_guest_in(live: Factory) -> None:
    specialist = await live("lege")
    ws_s, _ = await join(specialist)
    await ws_s.send_str(json.dumps({"type": "invite", "name": "Tolk Ahmed", "role": "interpreter"}))
    invited = await recv_type(ws_s, "invited")
    client = await live()
    token = await csrf_token(client, f"/join?room={ROOM_A}")
    resp = await client.post("/join", data={"csrf_token": token, "room": ROOM_A, "code": invited["code"]},
                             allow_redirects=False)
    assert resp.status == 303
    ws_i, waiting = await join(client)
    assert waiting["type"] == "waiting"
    page = await client.get(f"/consultations/{ROOM_A}")
    assert page.status == 200 and "Tolk Ahmed" in await page.text()
    await ws_i.close()
    await ws_s.close()
