"""Recordings kept, on SQLite and PostgreSQL: begun and finished for a live room, played by the
consultation's staff only (with a reason, audited for the patient), deleted when due or by an admin."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import av
import pytest
from sqlalchemy import select

from recordings_policy.sealed_file import KeyWrapper
from recordings_policy.webm_recorder import WebmRecorder, part_path
from rooms.roster import Identity, ParticipantRole
from scheduling.models import Booking
from server.people.models import Patient, User
from server.people.staff_actor import staff_actor
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from server.recording_models import Recording
from server.recordings import RecordingStore
from tests.conftest import Seeded
from tests.unit.recordings.encoded_media import vp8_frames

MASTER = "the recording master key for tests"


async def _marit_booking(db: Database) -> tuple[str, int]:
    async with db.session() as session:
        row = (await session.execute(select(Booking.public_id, Booking.patient_id)
                                     .join(Patient, Booking.patient_id == Patient.id)
                                     .where(Patient.given_name == "Marit"))).first()
        assert row is not None
        return row.public_id, row.patient_id


async def _actor(db: Database, seeded: Seeded, username: str) -> Actor:
    async with db.session() as session:
        user = await session.get(User, seeded.users[username])
        assert user is not None
        return staff_actor(user)


async def _audit(db: Database, action: str) -> list[AuditEntry]:
    async with db.session() as session:
        return list((await session.execute(select(AuditEntry).where(AuditEntry.action == action))).scalars())


async def _record_a_second(store: RecordingStore, storage_name: str, key: bytes) -> list[bytes]:
    frames = vp8_frames(30)
    recorder = WebmRecorder(store.directory, storage_name, key, on_failure=lambda reason: None)

    class Track:
        publisher_id, label, kind = "p1", "room_camera", "video"

    recorder.set_tracks([Track()])
    for n, frame in enumerate(frames):
        recorder.frame(Track(), frame, n * 3000, n % 10 == 0)
    await recorder.close()
    return frames


async def test_a_recording_is_kept_played_by_its_staff_and_deleted_when_due(
        db: Database, seeded: Seeded, clock: FixedClock, tmp_path: Path) -> None:
    audit = AuditLog(clock)
    store = RecordingStore(db, clock, audit, KeyWrapper(MASTER), tmp_path / "recordings")
    booking, patient_id = await _marit_booking(db)
    specialist = Identity(f"user:{seeded.users['lege']}", ParticipantRole.SPECIALIST, "Ingrid Hansen")

    order = await store.begin(booking_id=booking, purpose="teaching", proposed_by=specialist, started_by=specialist)
    async with db.session() as session:
        row = (await session.execute(select(Recording))).scalar_one()
        assert row.state == "recording" and row.delete_after == clock.now() + timedelta(days=90)
        assert row.wrapped_key is not None and order.data_key not in row.wrapped_key
        assert KeyWrapper(MASTER).unwrap(row.wrapped_key) == order.data_key
    frames = await _record_a_second(store, order.storage_name, order.data_key)
    with pytest.raises(Conflict):
        await store.open_for_playback(order.recording_id, await _actor(db, seeded, "lege"), "teaching")
    clock.advance(timedelta(minutes=5))
    await store.finish(order.recording_id, reason="withdrawn")
    async with db.session() as session:
        row = (await session.execute(select(Recording))).scalar_one()
        on_disk = part_path(store.directory, order.storage_name, 0)
        assert (row.state, row.parts, row.size_bytes) == ("complete", 1, on_disk.stat().st_size)
        assert row.stop_reason == "withdrawn"

    # Played by the consultation's own staff, with a reason; the access is in the patient's log.
    lege = await _actor(db, seeded, "lege")
    playback = await store.open_for_playback(order.recording_id, lege, "undervisning i geriatri")
    plain = b"".join(playback.chunks(0))
    with av.open(io.BytesIO(plain)) as container:
        assert sum(len(p.decode()) for p in container.demux() if p.size) == len(frames)
    played = await _audit(db, "recording_played")
    assert [(e.actor_id, e.patient_id, e.reason) for e in played] == [
        (lege.id, patient_id, "undervisning i geriatri")]
    assert {e.patient_id for e in await _audit(db, "recording_started")} == {patient_id}

    # Not by staff of another municipality, nor an admin, nor without a reason.
    for outsider in ("sykepleier.luroy", "admin"):
        with pytest.raises(NotFound):
            await store.open_for_playback(order.recording_id, await _actor(db, seeded, outsider), "curious")
    with pytest.raises(ValidationFailed):
        await store.open_for_playback(order.recording_id, lege, "  ")

    # Retention: kept until its date, then the files and the key go, with an audit row.
    clock.advance(timedelta(days=89))
    assert await store.delete_expired() == 0
    clock.advance(timedelta(days=1))
    assert await store.delete_expired() == 1
    assert not on_disk.exists()
    async with db.session() as session:
        row = (await session.execute(select(Recording))).scalar_one()
        assert (row.state, row.wrapped_key, row.deletion_reason) == ("deleted", None, "retention_expired")
    deleted = await _audit(db, "recording_deleted")
    assert [(e.actor_kind, e.patient_id, e.reason) for e in deleted] == [("system", patient_id, "retention_expired")]
    with pytest.raises(NotFound):
        await store.open_for_playback(order.recording_id, lege, "again")
    assert await store.delete_expired() == 0


async def test_an_admin_deletes_a_recording_early_with_a_reason(
        db: Database, seeded: Seeded, clock: FixedClock, tmp_path: Path) -> None:
    store = RecordingStore(db, clock, AuditLog(clock), KeyWrapper(MASTER), tmp_path)
    booking, patient_id = await _marit_booking(db)
    nurse = Identity(f"user:{seeded.users['sykepleier.rodoy']}", ParticipantRole.NURSE, "Kari Nilsen")
    order = await store.begin(booking_id=booking, purpose="patient_request", proposed_by=nurse, started_by=nurse)
    await _record_a_second(store, order.storage_name, order.data_key)
    await store.finish(order.recording_id, reason="disk_full")
    admin, lege = await _actor(db, seeded, "admin"), await _actor(db, seeded, "lege")
    playback = await store.open_for_playback(order.recording_id, lege, "check")
    assert playback.unfinished  # stopped by a fault: read up to its last whole chunk

    with pytest.raises(PermissionDenied):
        await store.delete(order.recording_id, lege, "not mine to delete")
    with pytest.raises(ValidationFailed):
        await store.delete(order.recording_id, admin, "")
    with pytest.raises(NotFound):
        await store.delete("no-such-recording", admin, "typo")
    await store.delete(order.recording_id, admin, "the patient asked for it to be deleted")
    assert not part_path(tmp_path, order.storage_name, 0).exists()
    deleted = await _audit(db, "recording_deleted")
    assert [(e.actor_id, e.patient_id, e.reason) for e in deleted] == [
        (admin.id, patient_id, "the patient asked for it to be deleted")]


async def test_a_recording_cut_by_a_stop_of_the_server_is_closed_at_the_next_start(
        db: Database, seeded: Seeded, clock: FixedClock, tmp_path: Path) -> None:
    store = RecordingStore(db, clock, AuditLog(clock), KeyWrapper(MASTER), tmp_path)
    booking, _ = await _marit_booking(db)
    lege = Identity(f"user:{seeded.users['lege']}", ParticipantRole.SPECIALIST, "Ingrid Hansen")
    order = await store.begin(booking_id=booking, purpose="teaching", proposed_by=lege, started_by=lege)
    await _record_a_second(store, order.storage_name, order.data_key)
    assert await store.close_interrupted() == 1
    assert await store.close_interrupted() == 0
    async with db.session() as session:
        row = (await session.execute(select(Recording))).scalar_one()
        assert (row.state, row.stop_reason, row.parts) == ("failed", "interrupted", 1)
    playback = await store.open_for_playback(order.recording_id, await _actor(db, seeded, "lege"), "check")
    assert playback.unfinished


async def test_a_row_left_recording_by_a_crash_elsewhere_is_still_deleted_on_its_date(
        db: Database, seeded: Seeded, clock: FixedClock, tmp_path: Path) -> None:
    store = RecordingStore(db, clock, AuditLog(clock), KeyWrapper(MASTER), tmp_path)
    booking, _ = await _marit_booking(db)
    lege = Identity(f"user:{seeded.users['lege']}", ParticipantRole.SPECIALIST, "Ingrid Hansen")
    order = await store.begin(booking_id=booking, purpose="patient_request", proposed_by=lege, started_by=lege)
    await _record_a_second(store, order.storage_name, order.data_key)
    clock.advance(timedelta(days=14))
    assert await store.delete_expired() == 1
    assert not part_path(tmp_path, order.storage_name, 0).exists()
