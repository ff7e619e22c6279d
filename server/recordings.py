"""Recordings kept: rows, data keys, sealed files, retention and deletion (the ``RecordingKeeper``).

Glue of the composition root: it joins the live rooms (which record), the recordings policy (purposes,
retention, the recorder's file format), the bookings (whose consultation) and the audit log. Every
start, stop and deletion writes an audit row against the booking's patient, so it shows in the
patient's access log.

Files live under ``SAMKONSULT_RECORDING_DIR`` (outside the web root); each recording's data key is
stored only wrapped by ``SAMKONSULT_RECORDING_KEY``. Deleting a recording removes its files and its
wrapped key: with the key gone, any copy of the files left in a backup can no longer be opened.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recordings_policy.rules import Purpose, delete_after
from recordings_policy.sealed_file import KeyWrapper, new_data_key, open_sealed
from recordings_policy.webm_recorder import part_path
from rooms.recording_tap import RecordingOrder
from rooms.registry import actor_for
from rooms.roster import Identity
from scheduling.models import Booking, Reservation, Resource
from server.people.models import User
from server.platform.actors import SYSTEM, Actor
from server.platform.audit import AuditLog
from server.platform.clock import Clock
from server.platform.db import Database
from server.platform.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from server.platform.roles import Role
from server.platform.settings import Settings
from server.recording_models import Recording, RecordingState

log = logging.getLogger(__name__)

MAX_PARTS = 10_000  # a recording with more parts than this is not something the recorder makes


CLINICAL_ROLES = (Role.COORDINATOR, Role.SPECIALIST, Role.NURSE)


@dataclass(frozen=True)
class RecordingSummary:
    """What staff see of a recording before they play it."""

    public_id: str
    purpose: str
    state: str
    started_at: datetime
    stopped_at: datetime | None
    stop_reason: str | None
    delete_after: datetime
    parts: int
    size_bytes: int


@dataclass(frozen=True)
class Playback:
    """An opened recording: its parts, decrypted chunk by chunk as they are read (never whole)."""

    public_id: str
    paths: list[Path]
    data_key: bytes = field(repr=False)
    unfinished: bool = False  # a recording stopped by a fault: its last part may lack its final chunk

    def chunks(self, part: int) -> Iterator[bytes]:
        """The plaintext WebM of one part, chunk by chunk, each authenticated before it is given out."""
        if not 0 <= part < len(self.paths):
            raise NotFound("no such part of the recording")
        with open(self.paths[part], "rb") as fh:
            last = part == len(self.paths) - 1
            yield from open_sealed(fh, self.data_key, allow_unfinished=self.unfinished and last)


def _user_id(identity: Identity) -> int | None:
    subject = identity.subject
    if subject.startswith("user:") and subject[5:].isdigit():
        return int(subject[5:])
    return None


class RecordingStore:
    """Keeps recordings: begins and finishes them for the live rooms, deletes them when due or asked."""

    def __init__(self, database: Database, clock: Clock, audit: AuditLog, wrapper: KeyWrapper,
                 directory: Path) -> None:
        self._db = database
        self._clock = clock
        self._audit = audit
        self._wrapper = wrapper
        self._directory = directory

    @property
    def directory(self) -> Path:
        return self._directory

    async def begin(self, *, booking_id: str, purpose: str, proposed_by: Identity,
                    started_by: Identity) -> RecordingOrder:
        """A new recording of the booking (``booking_id`` is its public id): row, data key, audit row."""
        kind = Purpose(purpose)
        now = self._clock.now()
        data_key = new_data_key()
        public_id = secrets.token_urlsafe(16)
        storage_name = secrets.token_hex(16)  # says nothing about the consultation it holds
        async with self._db.session(write_lock=True) as session:
            booking = (await session.execute(
                select(Booking.id, Booking.patient_id).where(Booking.public_id == booking_id))).one_or_none()
            if booking is None:
                raise NotFound("no such consultation")
            session.add(Recording(
                public_id=public_id, booking_id=booking.id, purpose=kind.value,
                proposed_by_user_id=_user_id(proposed_by), started_by_user_id=_user_id(started_by),
                started_at=now, delete_after=delete_after(kind, now), storage_name=storage_name, parts=0,
                wrapped_key=self._wrapper.wrap(data_key), size_bytes=0, state=RecordingState.RECORDING.value))
            await self._audit.record(session, actor_for(started_by), action="recording_started",
                                     object_type="recording", object_id=public_id, patient_id=booking.patient_id,
                                     reason=kind.value)
        return RecordingOrder(public_id, str(self._directory), storage_name, data_key)

    async def finish(self, recording_id: str, *, reason: str) -> None:
        """The recording ended: its size and parts from disk, its state, an audit row with the reason."""
        async with self._db.session(write_lock=True) as session:
            row = (await session.execute(select(Recording).where(Recording.public_id == recording_id))).scalar_one()
            if row.state != RecordingState.RECORDING.value:
                return
            parts, size = self._measure(row.storage_name)
            row.parts, row.size_bytes = parts, size
            row.stopped_at = self._clock.now()
            row.stop_reason = reason[:32]
            failed = reason in {"disk_full", "write_error", "media_lost", "media_error", "interrupted"}
            row.state = (RecordingState.FAILED if failed else RecordingState.COMPLETE).value
            patient_id = await self._patient_of(session, row.booking_id)
            await self._audit.record(session, SYSTEM, action="recording_stopped", object_type="recording",
                                     object_id=row.public_id, patient_id=patient_id, reason=reason)

    async def close_interrupted(self) -> int:
        """At start-up of the only node: recordings left "recording" were cut when the process stopped.

        No live room outlives its process, so they are finished as failed (``interrupted``): they can be
        played up to their last whole chunk, and are deleted on their date. Returns how many.
        """
        async with self._db.session(read_only=True) as session:
            running = list((await session.execute(select(Recording.public_id).where(
                Recording.state == RecordingState.RECORDING.value))).scalars())
        for public_id in running:
            await self.finish(public_id, reason="interrupted")
        return len(running)

    async def delete_expired(self) -> int:
        """Delete every recording past its retention date (the background job); returns how many."""
        now = self._clock.now()
        async with self._db.session(read_only=True) as session:
            # A row still "recording" past its date (weeks after it began) was cut by a crash on some
            # node and never finished: it goes too.
            due = list((await session.execute(
                select(Recording.public_id).where(Recording.state != RecordingState.DELETED.value,
                                                  Recording.delete_after <= now))).scalars())
        for public_id in due:
            await self._delete(public_id, SYSTEM, "retention_expired")
        return len(due)

    async def delete(self, public_id: str, actor: Actor, reason: str) -> None:
        """An administrator deletes a recording before its date, saying why (audited with the reason)."""
        if not actor.has_role(Role.ADMIN):
            raise PermissionDenied("only an administrator deletes a recording early")
        reason = reason.strip()
        if not reason or len(reason) > 500:
            raise ValidationFailed("state why the recording is deleted (at most 500 characters)")
        async with self._db.session(read_only=True) as session:
            row = (await session.execute(select(Recording.state).where(Recording.public_id == public_id))
                   ).scalar_one_or_none()
        if row is None:
            raise NotFound("no such recording")
        if row == RecordingState.RECORDING.value:
            raise Conflict("the recording is still running; it stops when someone withdraws or the call ends")
        await self._delete(public_id, actor, reason)

    async def for_booking(self, booking_public_id: str, actor: Actor) -> list[RecordingSummary]:
        """The recordings of a consultation (not deleted), for staff who may play them and for
        administrators (who delete on request, and play nothing); audited as a list.

        Anyone else gets ``NotFound``, as for a consultation that does not exist.
        """
        async with self._db.session(write_lock=True) as session:
            booking = (await session.execute(select(Booking.id, Booking.patient_id).where(
                Booking.public_id == booking_public_id))).one_or_none()
            if booking is None or not (actor.has_role(Role.ADMIN)
                                       or await self._may_play(session, actor, booking.id)):
                raise NotFound("no such consultation")
            rows = (await session.execute(select(Recording).where(
                Recording.booking_id == booking.id, Recording.state != RecordingState.DELETED.value)
                .order_by(Recording.started_at))).scalars().all()
            await self._audit.record(session, actor, action="list", object_type="recording",
                                     object_id=booking_public_id, patient_id=booking.patient_id)
            return [RecordingSummary(r.public_id, r.purpose, r.state, r.started_at, r.stopped_at, r.stop_reason,
                                     r.delete_after, r.parts, r.size_bytes) for r in rows]

    async def open_for_playback(self, public_id: str, actor: Actor, reason: str) -> Playback:
        """Staff of the consultation's organisations, with a stated reason, open a recording part by part.

        The access is audited (against the patient, so it shows in their access log) before any byte is
        read. Anyone else gets ``NotFound``, the same answer as for a recording that does not exist.
        """
        reason = reason.strip()
        if not reason or len(reason) > 500:
            raise ValidationFailed("state why the recording is played")
        async with self._db.session(write_lock=True) as session:
            row = (await session.execute(select(Recording).where(Recording.public_id == public_id))
                   ).scalar_one_or_none()
            if (row is None or row.wrapped_key is None or row.state == RecordingState.DELETED.value
                    or not await self._may_play(session, actor, row.booking_id)):
                raise NotFound("no such recording")
            if row.state == RecordingState.RECORDING.value:
                raise Conflict("the recording is still running")
            data_key = self._wrapper.unwrap(row.wrapped_key)
            patient_id = await self._patient_of(session, row.booking_id)
            await self._audit.record(session, actor, action="recording_played", object_type="recording",
                                     object_id=public_id, patient_id=patient_id, reason=reason)
            parts, _ = self._measure(row.storage_name)
            paths = [part_path(self._directory, row.storage_name, n) for n in range(parts)]
            return Playback(public_id, paths, data_key, unfinished=row.state == RecordingState.FAILED.value)

    @staticmethod
    async def _may_play(session: AsyncSession, actor: Actor, booking_id: int) -> bool:
        if not actor.has_role(*CLINICAL_ROLES) or actor.organisation_id is None:
            return False
        resource_orgs = select(Resource.organisation_id).join(
            Reservation, Reservation.resource_id == Resource.id).where(Reservation.booking_id == booking_id)
        person_orgs = select(User.organisation_id).join(Resource, Resource.user_id == User.id).join(
            Reservation, Reservation.resource_id == Resource.id).where(Reservation.booking_id == booking_id)
        organisations = set((await session.execute(resource_orgs)).scalars()) | set(
            (await session.execute(person_orgs)).scalars())
        return actor.organisation_id in organisations

    async def _delete(self, public_id: str, actor: Actor, reason: str) -> None:
        async with self._db.session(write_lock=True) as session:
            row = (await session.execute(select(Recording).where(Recording.public_id == public_id))).scalar_one()
            if row.state == RecordingState.DELETED.value:
                return
            self._remove_files(row.storage_name)
            row.wrapped_key = None
            row.state = RecordingState.DELETED.value
            row.deleted_at = self._clock.now()
            row.deletion_reason = reason[:500]
            patient_id = await self._patient_of(session, row.booking_id)
            await self._audit.record(session, actor, action="recording_deleted", object_type="recording",
                                     object_id=public_id, patient_id=patient_id, reason=reason)

    def _measure(self, storage_name: str) -> tuple[int, int]:
        parts = size = 0
        while parts < MAX_PARTS:
            path = part_path(self._directory, storage_name, parts)
            if not path.exists():
                break
            size += path.stat().st_size
            parts += 1
        return parts, size

    def _remove_files(self, storage_name: str) -> None:
        for part in range(MAX_PARTS):
            path = part_path(self._directory, storage_name, part)
            if not path.exists():
                break
            path.unlink()

    @staticmethod
    async def _patient_of(session: AsyncSession, booking_id: int) -> int | None:
        return (await session.execute(select(Booking.patient_id).where(Booking.id == booking_id))).scalar_one_or_none()


RECORDINGS = web.AppKey("recordings", RecordingStore)
"""The recording store; absent when no ``SAMKONSULT_RECORDING_KEY`` is configured (nothing is recorded)."""


def recording_store(settings: Settings, database: Database, clock: Clock, audit: AuditLog) -> RecordingStore | None:
    """The store for these settings, or ``None`` when this server has no recording key."""
    if not settings.recording_key:
        return None
    return RecordingStore(database, clock, audit, KeyWrapper(settings.recording_key), Path(settings.recording_dir))
