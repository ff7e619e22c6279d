"""Which consultations are live, who may enter them, and the guest's way in with a join code.

``BookingDirectory`` is all the live side needs from scheduling (implemented against its tables in
``server.booking_directory``); ``LiveRegistry`` opens a ``LiveRoom`` per booking on the first join inside
the opening window and reaps them; ``GuestAccess`` exchanges a join code for a short guest session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from aiortc import RTCPeerConnection

from rooms.errors import RoomClosed, RoomNotOpen
from rooms.join_codes import JoinCodeService, JoinGrant
from rooms.live import LiveRoom, ReadingSink
from rooms.live_media import RoomMediaFactory, default_peer_factory
from rooms.models import GuestSessionStore
from rooms.placement import RoomElsewhere, RoomPlacement
from rooms.recording_consent import RecordingKeeper, RecordingRules
from rooms.room import OPEN_BEFORE, Room
from rooms.roster import HealthRoomPresence, Identity, ParticipantRole
from rooms.seats import RoomSpec, RoomState
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.audit_batch import AuditRow, GroupCommitAudit
from server.platform.clock import Clock
from server.platform.db import Database
from server.platform.errors import NotFound, PermissionDenied

log = logging.getLogger(__name__)

REAP_INTERVAL = 2.0
"""Seconds between reaper passes: well inside the 5 s dead-peer and 30 s grace periods."""
GUEST_SESSION_MAX = timedelta(hours=4)
NO_SUCH_CONSULTATION = "no such consultation"
"""The answer to a room id that does not exist and to staff who are not in the consultation, alike."""


@dataclass(frozen=True)
class ContactPhone:
    """A number to call when video cannot be restored."""

    name: str
    role: str
    phone: str


@dataclass(frozen=True)
class BookingRoom:
    """What a live consultation needs to know about its booking."""

    booking_id: str
    """The booking's public, unguessable id; also the room id."""
    starts_at: datetime
    ends_at: datetime
    staff: Mapping[str, ParticipantRole]
    """Subjects (``user:<id>``) of the booking's staff participants and the part each plays."""
    patient_id: int | None
    patient_name: str
    health_room: str = ""
    nurse_name: str = ""
    title: str = ""
    title_en: str = ""
    """The kind of consultation in English, for English pages ("" when it has none)."""
    phones: tuple[ContactPhone, ...] = field(default=())

    def spec(self) -> RoomSpec:
        return RoomSpec(
            room_id=self.booking_id,
            booking_id=self.booking_id,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            staff_subjects=frozenset(self.staff),
        )


class BookingDirectory(Protocol):
    """Read-only access to bookings, for the live side."""

    async def room_for(self, booking_id: str) -> BookingRoom | None:
        """The booking behind a room id, or None when there is none (or it was cancelled)."""

    async def rooms_for_staff(self, user_id: int, start: datetime, end: datetime) -> list[BookingRoom]:
        """The bookings a staff user takes part in that start in ``[start, end)``, by start time."""


def staff_identity(booking: BookingRoom, actor: Actor) -> Identity:
    """The identity a logged-in staff user has in this consultation; only the booking's staff get one.

    Anyone else is answered exactly as for a room id that does not exist (``NotFound`` with the same
    message as :meth:`LiveRegistry.booking`), so staff cannot learn which consultations exist by probing.
    """
    role = booking.staff.get(actor.id)
    if not actor.is_staff or role is None:
        raise NotFound(NO_SUCH_CONSULTATION)
    presence = None
    if role is ParticipantRole.NURSE and booking.health_room:
        presence = HealthRoomPresence(booking.health_room, actor.name)
    return Identity(actor.id, role, actor.name, actor.organisation_name, presence)


def guest_identity(booking: BookingRoom, grant: JoinGrant) -> Identity:
    """The identity of a guest who exchanged a join code for this room."""
    if grant.room_id != booking.booking_id:
        raise PermissionDenied("this session is for another consultation")
    presence = None
    if grant.role is ParticipantRole.PATIENT and booking.health_room and booking.nurse_name:
        presence = HealthRoomPresence(booking.health_room, booking.nurse_name)
    return Identity(grant.subject, grant.role, grant.display_name, "", presence)


def actor_for(identity: Identity) -> Actor:
    """The audit actor for a participant (guests have no account: their subject names the join code)."""
    kind = "staff" if identity.subject.startswith("user:") else "guest"
    return Actor(
        kind=kind,
        id=identity.subject,
        name=identity.display_name,
        role=identity.role.value,
        organisation_id=None,
        organisation_name=identity.organisation,
    )


class DatabaseConsultationAudit:
    """``ConsultationAudit`` on the audit log: one row per roster change, chat message and reading.

    Rows of all rooms share commits (``GroupCommitAudit``); each call still returns only once its row
    is committed.
    """

    def __init__(self, rows: GroupCommitAudit, booking: BookingRoom) -> None:
        self._rows = rows
        self._booking = booking

    async def record(self, identity: Identity, action: str, *, reason: str = "") -> None:
        await self._rows.record(AuditRow(
            actor_for(identity),
            action=action,
            object_type="consultation",
            object_id=self._booking.booking_id,
            patient_id=self._booking.patient_id,
            reason=reason,
        ))


class LiveRegistry:
    """The live rooms of this process, by booking id, with the reaper that keeps them tidy.

    In memory and per process: with several media nodes each room is pinned to one (architecture.md).
    """

    def __init__(
        self,
        directory: BookingDirectory,
        *,
        database: Database,
        audit: AuditLog,
        clock: Clock,
        join_codes: JoinCodeService,
        peer_factory: Callable[[], RTCPeerConnection] = default_peer_factory,
        media_factory: RoomMediaFactory | None = None,
        placement: RoomPlacement | None = None,
        reap_interval: float = REAP_INTERVAL,
        reading_sink: ReadingSink | None = None,
        open_before: timedelta = OPEN_BEFORE,
        recording_rules: RecordingRules | None = None,
        recording_keeper: RecordingKeeper | None = None,
    ) -> None:
        self.directory = directory
        self.open_before = open_before
        self._db = database
        self._audit_rows = GroupCommitAudit(database, audit)
        self._clock = clock
        self._join_codes = join_codes
        self._peer_factory = peer_factory
        # None: every room's media in this process; otherwise (media workers) whatever the factory makes.
        self._media_factory = media_factory
        # None: this is the only node; otherwise a room is opened here only if no other node holds it.
        self._placement = placement
        self._interval = reap_interval
        self._rooms: dict[str, LiveRoom] = {}
        # Keeps readings shared in a call in the joint note (the composition root joins rooms and notes).
        self._reading_sink = reading_sink
        # Recording (with everyone's consent) needs the policy's rules and a keeper: both from the root.
        self._recording_rules = recording_rules
        self._recording_keeper = recording_keeper
        self._bookings: dict[str, BookingRoom] = {}
        self._lock = asyncio.Lock()
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False

    async def booking(self, booking_id: str) -> BookingRoom:
        """The booking behind a room id; ``NotFound`` for an unknown (or guessed) id."""
        if not booking_id or len(booking_id) > 64:
            raise NotFound(NO_SUCH_CONSULTATION)
        known = self._bookings.get(booking_id)
        if known is not None:
            return known
        booking = await self.directory.room_for(booking_id)
        if booking is None:
            raise NotFound(NO_SUCH_CONSULTATION)
        return booking

    def get(self, booking_id: str) -> LiveRoom | None:
        return self._rooms.get(booking_id)

    def rooms(self) -> list[LiveRoom]:
        return list(self._rooms.values())

    async def open(self, booking: BookingRoom) -> LiveRoom:
        """The live room of a booking, created on first use inside its opening window."""
        async with self._lock:
            if self._closed:
                raise RoomClosed("the server is shutting down")
            live = self._rooms.get(booking.booking_id)
            if live is not None:
                if live.closed:
                    raise RoomClosed("the consultation is over")
                return live
            room = Room(booking.spec(), clock=self._clock, open_before=self.open_before)
            state = room.state()
            # Only open rooms are kept, so early or late visitors cannot fill memory with rooms.
            if state is RoomState.SCHEDULED:
                raise RoomNotOpen("the consultation room is not open yet", opens_at=room.opens_at)
            if state is RoomState.CLOSED:
                raise RoomClosed("the consultation is over")
            if self._placement is not None:
                node_url = await self._placement.claim(booking.booking_id)
                if node_url is not None:
                    raise RoomElsewhere(node_url)
            live = LiveRoom(
                room,
                audit=DatabaseConsultationAudit(self._audit_rows, booking),
                join_codes=self._join_codes,
                peer_factory=self._peer_factory,
                media_factory=self._media_factory,
                reading_sink=self._reading_sink,
                recording_rules=self._recording_rules,
                recording_keeper=self._recording_keeper,
            )
            self._rooms[booking.booking_id] = live
            self._bookings[booking.booking_id] = booking
            log.info("live room opened for booking %s", booking.booking_id)
            return live

    def start(self) -> None:
        """Start the reaper task."""
        if self._reaper is None:
            self._reaper = asyncio.create_task(self._reap_forever(), name="live-room-reaper")

    async def reap_once(self) -> None:
        """One reaper pass: every room's ``tick``; rooms closed and past their slot are forgotten."""
        for booking_id, live in list(self._rooms.items()):
            try:
                await live.tick()
            except Exception:  # one broken room must not stop the reaper for the others
                log.exception("reaping room %s failed", booking_id)
            if live.closed and self._clock.now() >= live.room.closes_at:
                self._rooms.pop(booking_id, None)
                self._bookings.pop(booking_id, None)
                if self._placement is not None:
                    await self._placement.release(booking_id)

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.reap_once()

    async def close(self) -> None:
        """Close every room and stop the reaper. Idempotent."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            await asyncio.gather(self._reaper, return_exceptions=True)
            self._reaper = None
        for booking_id, live in list(self._rooms.items()):
            await live.close()
            if self._placement is not None:
                await self._placement.release(booking_id)
        self._rooms.clear()
        self._bookings.clear()
        await self._audit_rows.close()


@dataclass(frozen=True)
class GuestEntry:
    """A redeemed code: the guest's session token (for the cookie), its expiry, and the room it opens."""

    token: str
    expires_at: datetime
    room_id: str


class GuestAccess:
    """Exchanges a join code for a guest session, and reads the session back."""

    def __init__(self, registry: LiveRegistry, codes: JoinCodeService, sessions: GuestSessionStore,
                 clock: Clock) -> None:
        self._registry = registry
        self._codes = codes
        self._sessions = sessions
        self._clock = clock

    async def redeem(self, booking_id: str | None, code: str, *, client_key: str) -> GuestEntry:
        """A guest session for a valid code, in the code's own room; refusals raise domain errors.

        ``booking_id`` is optional: the code alone identifies its room. When one is given (an old
        ``/join?room=`` link), the code must belong to it, and a guessed room id is refused like a
        wrong code (the code service counts both against the limits), so the answer does not reveal
        which room ids exist.
        """
        room = None if booking_id is None else booking_id[:64]
        grant = await self._codes.redeem(code, room_id=room, client_key=client_key)
        booking = await self._registry.booking(grant.room_id)
        expires = min(booking.ends_at + timedelta(hours=1), self._clock.now() + GUEST_SESSION_MAX)
        token = await self._sessions.create(grant, expires)
        return GuestEntry(token, expires, grant.room_id)

    async def grant(self, token: str | None) -> JoinGrant | None:
        return None if not token else await self._sessions.load(token)
