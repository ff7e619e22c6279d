"""Recording consent over real WebSockets: propose, agree, withdraw, refusals as error frames, audited."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from rooms.appkeys import BOOKING_DIRECTORY_FACTORY
from rooms.registry import BookingRoom
from rooms.roster import ParticipantRole
from scheduling.models import Booking
from server.app import create_app
from server.people import totp
from server.people.models import Patient
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.settings import Settings
from server.recording_models import Recording
from tests.conftest import DEMO_TOTP_SECRET, Seeded
from tests.helpers import LoopbackSecureJar, login

ORIGIN = {"Origin": "http://127.0.0.1"}
SAFETY = 15.0  # only so that a broken test stops; never asserted


class Directory:
    def __init__(self, room: BookingRoom) -> None:
        self.room = room

    async def room_for(self, booking_id: str) -> BookingRoom | None:
        return self.room if booking_id == self.room.booking_id else None

    async def rooms_for_staff(self, user_id: int, start: Any, end: Any) -> list[BookingRoom]:
        return [self.room] if f"user:{user_id}" in self.room.staff else []


async def recv_type(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        async with asyncio.timeout(SAFETY):
            msg = await ws.receive()
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        data: dict[str, Any] = json.loads(msg.data)
        if data["type"] == kind:
            return data


async def test_consent_to_record_over_the_socket(
        aiohttp_client: Any, settings: Settings, clock: FixedClock, seeded: Seeded, db: Database,
        tmp_path: Any) -> None:
    async with db.session() as session:
        booking_id, patient_id = (await session.execute(
            select(Booking.public_id, Booking.patient_id).join(Patient, Booking.patient_id == Patient.id)
            .where(Patient.given_name == "Marit"))).first()  # type: ignore[misc]
    start = clock.now() + timedelta(minutes=5)
    room = BookingRoom(booking_id, start, start + timedelta(minutes=45),
                       {f"user:{seeded.users['lege']}": ParticipantRole.SPECIALIST,
                        f"user:{seeded.users['sykepleier.rodoy']}": ParticipantRole.NURSE},
                       patient_id, "Marit Eriksen")
    app = create_app(dataclasses.replace(settings, recording_key="a recording key for the socket tests",
                                         recording_dir=str(tmp_path)), clock=clock)
    app[BOOKING_DIRECTORY_FACTORY] = lambda _db: Directory(room)
    clients: list[TestClient] = []
    sockets = []
    for username in ("lege", "sykepleier.rodoy"):
        client: TestClient = await aiohttp_client(clients[0].server if clients else app,
                                                  cookie_jar=LoopbackSecureJar())
        await login(client, username, totp.current_code(DEMO_TOTP_SECRET, clock.now()))
        clock.advance(timedelta(seconds=31))
        ws = await client.ws_connect(f"/ws?room={booking_id}", headers=ORIGIN)
        await ws.send_str(json.dumps({"type": "join", "version": 1}))
        sockets.append((ws, (await recv_type(ws, "admitted"))["participant_id"]))
        clients.append(client)
    (lege, lege_id), (nurse, nurse_id) = sockets

    await lege.send_str(json.dumps({"type": "recording_propose", "purpose": "marketing", "ref": "p1"}))
    assert await recv_type(lege, "error") == {"type": "error", "code": "recording_refused",
                                              "message": "not a purpose a recording may be made for", "ref": "p1"}
    await nurse.send_str(json.dumps({"type": "recording_answer", "agree": "yes", "ref": "a0"}))
    assert (await recv_type(nurse, "error"))["code"] == "bad_field"
    await nurse.send_str(json.dumps({"type": "recording_answer", "agree": True, "ref": "a1"}))
    assert (await recv_type(nurse, "error"))["code"] == "no_recording_proposed"

    await lege.send_str(json.dumps({"type": "recording_propose", "purpose": "teaching"}))
    for ws in (lege, nurse):
        status = await recv_type(ws, "recording_status")
        assert (status["state"], status["purpose"], status["retention_days"]) == ("proposed", "teaching", 90)
        assert status["waiting_for"] == [nurse_id] and status["recorder_name"] is None

    await nurse.send_str(json.dumps({"type": "recording_answer", "agree": True}))
    for ws in (lege, nurse):
        status = await recv_type(ws, "recording_status")
        assert status["state"] == "recording" and status["recorder_name"] == "Opptaker"
        assert sorted(status["recorded"]) == sorted([lege_id, nurse_id]) and status["proposed_by"] == lege_id

    await nurse.send_str(json.dumps({"type": "recording_withdraw"}))
    for ws in (lege, nurse):
        status = await recv_type(ws, "recording_status")
        assert (status["state"], status["ended_reason"], status["kept_days"]) == ("none", "withdrawn", 90)
    # The socket handles one message after the other: the pong comes once the withdrawal is audited.
    await nurse.send_str(json.dumps({"type": "ping", "ref": "after"}))
    assert (await recv_type(nurse, "pong"))["ref"] == "after"

    async with db.session() as session:
        recording = (await session.execute(select(Recording))).scalar_one()
        actions = [a for a in (await session.execute(
            select(AuditEntry.action).where(AuditEntry.patient_id == patient_id,
                                            AuditEntry.action.like("recording_%")).order_by(AuditEntry.seq)
        )).scalars()]
    assert (recording.state, recording.stop_reason, recording.purpose) == ("complete", "withdrawn", "teaching")
    assert actions == ["recording_proposed", "recording_agreed", "recording_started", "recording_stopped",
                       "recording_withdrawn"]
    for ws, _ in sockets:
        await ws.close()
