"""Recordings over HTTP: playback streamed and decrypted for the consultation's staff with a reason,
shown in the patient's access log; refused to others; early deletion by an administrator only."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import av
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from recordings_policy.webm_recorder import WebmRecorder
from rooms.roster import Identity, ParticipantRole
from scheduling.models import Booking
from server.app import create_app
from server.people.appkeys import ACCESS_REPORTS
from server.people.models import Patient, User
from server.people.staff_actor import staff_actor
from server.platform.appkeys import DATABASE
from server.platform.clock import FixedClock
from server.platform.settings import Settings
from server.recordings import RECORDINGS
from tests.conftest import Seeded
from tests.helpers import LoopbackSecureJar, api_headers, login_as
from tests.unit.recordings.encoded_media import vp8_frames


class _Track:
    publisher_id, label, kind = "p1", "room_camera", "video"


async def _client(aiohttp_client, settings: Settings, clock: FixedClock, tmp_path: Path) -> TestClient:  # type: ignore[no-untyped-def]
    app = create_app(dataclasses.replace(settings, recording_key="a recording key for the http tests",
                                         recording_dir=str(tmp_path / "recordings")), clock=clock)
    return await aiohttp_client(app, cookie_jar=LoopbackSecureJar())


async def _a_recording(client: TestClient, seeded: Seeded) -> tuple[str, str, int, str]:
    app = client.server.app
    store = app[RECORDINGS]
    async with app[DATABASE].session() as session:
        booking, patient_public, patient_id = (await session.execute(
            select(Booking.public_id, Patient.public_id, Patient.id).join(Patient, Booking.patient_id == Patient.id)
            .where(Patient.given_name == "Marit"))).one()
    lege = Identity(f"user:{seeded.users['lege']}", ParticipantRole.SPECIALIST, "Ingrid Hansen")
    order = await store.begin(booking_id=booking, purpose="documentation", proposed_by=lege, started_by=lege)
    recorder = WebmRecorder(store.directory, order.storage_name, order.data_key, on_failure=lambda reason: None)
    recorder.set_tracks([_Track()])
    for n, frame in enumerate(vp8_frames(20)):
        recorder.frame(_Track(), frame, n * 3000, n % 10 == 0)
    await recorder.close()
    await store.finish(order.recording_id, reason="withdrawn")
    return order.recording_id, patient_public, patient_id, booking


async def test_playback_is_streamed_to_the_consultations_staff_with_a_reason_and_logged_for_the_patient(
        aiohttp_client, settings: Settings, clock: FixedClock, seeded: Seeded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client = await _client(aiohttp_client, settings, clock, tmp_path)
    recording, patient, _, booking = await _a_recording(client, seeded)
    url = f"/api/recordings/{recording}/parts/0"

    assert (await client.get(url, params={"reason": "x"})).status == 401
    await login_as(client, "sykepleier.luroy", clock)  # another municipality: not theirs
    resp = await client.get(url, params={"reason": "curious"})
    assert resp.status == 404 and resp.content_type == "application/problem+json"

    assert (await client.get(f"/api/bookings/{booking}/recordings")).status == 404

    await login_as(client, "lege", clock)
    listed = await (await client.get(f"/api/bookings/{booking}/recordings")).json()
    assert [(r["public_id"], r["purpose"], r["state"], r["parts"], r["part_paths"]) for r in listed] == [
        (recording, "documentation", "complete", 1, [url])]
    resp = await client.get(url)
    assert resp.status == 422 and resp.content_type == "application/problem+json"
    resp = await client.get(url, params={"reason": "sammenligne såret neste gang"})
    assert resp.status == 200 and resp.content_type == "video/webm"
    assert resp.headers["Cache-Control"] == "no-store"
    body = await resp.read()
    with av.open(io.BytesIO(body)) as container:
        assert sum(len(p.decode()) for p in container.demux() if p.size) == 20
    assert (await client.get(f"/api/recordings/{recording}/parts/1", params={"reason": "r"})).status == 404

    app = client.server.app
    async with app[DATABASE].session() as session:
        user = await session.get(User, seeded.users["lege"])
        assert user is not None
        reports = app[ACCESS_REPORTS]
        report = await reports.for_staff(session, staff_actor(user), patient, reports.period(), reason="check")
    played = [group for day in report.days for group in day.groups if group.object_type == "recording"]
    assert any(dict(group.actions).get("recording_played") == 1 for group in played)


async def test_only_an_administrator_deletes_a_recording_early_and_must_say_why(
        aiohttp_client, settings: Settings, clock: FixedClock, seeded: Seeded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client = await _client(aiohttp_client, settings, clock, tmp_path)
    recording, _, _, booking = await _a_recording(client, seeded)
    token = await login_as(client, "lege", clock)
    resp = await client.delete(f"/api/recordings/{recording}", headers=api_headers(token), json={"reason": "x"})
    assert resp.status == 403 and resp.content_type == "application/problem+json"

    token = await login_as(client, "admin", clock)
    listed = await (await client.get(f"/api/bookings/{booking}/recordings")).json()
    assert [r["public_id"] for r in listed] == [recording]  # found to be deleted, though never played
    assert (await client.get(f"/api/recordings/{recording}/parts/0", params={"reason": "r"})).status == 404
    resp = await client.delete(f"/api/recordings/{recording}", headers=api_headers(token), json={})
    assert resp.status == 422
    resp = await client.delete(f"/api/recordings/{recording}", headers=api_headers(token),
                               json={"reason": "pasienten ba om sletting", "extra": 1})
    assert resp.status == 422
    resp = await client.delete(f"/api/recordings/{recording}", headers=api_headers(token),
                               json={"reason": "pasienten ba om sletting"})
    assert resp.status == 200 and await resp.json() == {"public_id": recording, "state": "deleted"}
    assert not list((tmp_path / "recordings").iterdir())
    assert await (await client.get(f"/api/bookings/{booking}/recordings")).json() == []

    document = await (await client.get("/api/openapi.json")).json()
    assert "delete" in document["paths"]["/api/recordings/{public_id}"]
