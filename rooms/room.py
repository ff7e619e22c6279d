"""The live state of one consultation: opening window, waiting room, admission, roster, grace and resume.

A ``Room`` is pure: it does no I/O and reads time only from the injected clock. Every change returns
the events the signaling layer must deliver, each already addressed (``Outgoing.to``), so the rules of
who sees what (the waiting list only for staff, the roster for everyone admitted) live here and not
in the transport.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from rooms.errors import (
    Forbidden,
    InvalidInvite,
    InvalidTransition,
    JoinRefused,
    NotAdmitted,
    ResumeRefused,
    RoomClosed,
    RoomFull,
    RoomNotOpen,
    UnknownParticipant,
)
from rooms.events import (
    Admitted,
    ChatPosted,
    Denied,
    EndReason,
    MuteChanged,
    Outgoing,
    ReadingPosted,
    RoomEnded,
    RosterChanged,
    SeatReleased,
    TrackPublished,
    Waiting,
    WaitingListChanged,
    WaitingRoomMessage,
    WaitingRoomStatus,
)
from rooms.readings import Reading
from rooms.roster import (
    CODE_ROLES,
    MAX_LABEL_CHARS,
    MAX_NAME_CHARS,
    Identity,
    ParticipantId,
    ParticipantRole,
    RecorderEntry,
    Roster,
    RosterEntry,
    SeatStatus,
    TrackInfo,
    TrackKind,
    is_display_text,
)
from rooms.seat_table import SeatTable, new_resume_token, token_hash
from rooms.seats import Invitation, JoinResult, Participant, RoomSpec, RoomState, Seat
from server.platform.clock import Clock

log = logging.getLogger(__name__)

OPEN_BEFORE = timedelta(minutes=15)
"""The room opens this long before the booking starts (pre-call checks, the waiting room)."""
CLOSE_AFTER = timedelta(minutes=60)
"""If nobody ends it, the room closes this long after the booked end: consultations overrun."""
GRACE = timedelta(seconds=30)
"""A dropped connection keeps its seat this long, so a network blip does not cost the admission."""
MAX_ADMITTED = 8
MAX_WAITING = 8
MAX_CHAT_CHARS = 2000
MAX_WAITING_MESSAGE_CHARS = 200
"""A note to the waiting room is read on a phone while waiting: one or two sentences."""
_PARTICIPANT_ID_BYTES = 12  # 96 bits: ids are shown to every participant but must not be guessable


def new_room_id() -> str:
    """An unguessable room id (128 bits), safe to put in a URL."""
    return secrets.token_urlsafe(16)


# --- the room ------------------------------------------------------------------------------------


class Room:
    """The live state of one booking's consultation.

    Booking staff enter directly; everyone else waits until a staff participant admits them. Only
    admitted participants publish, chat and see the roster; only staff admit, deny, remove, invite and
    end; only nurses and specialists post readings. A dropped connection keeps its seat for ``grace``
    and can be resumed with the resume token handed out at join (rotated on every resume).
    """

    def __init__(
        self,
        spec: RoomSpec,
        *,
        clock: Clock,
        grace: timedelta = GRACE,
        open_before: timedelta = OPEN_BEFORE,
        close_after: timedelta = CLOSE_AFTER,
        max_admitted: int = MAX_ADMITTED,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        self._spec = spec
        self._clock = clock
        self._recorder: RecorderEntry | None = None
        self._grace = grace
        self.opens_at = spec.starts_at - open_before
        self.closes_at = spec.ends_at + close_after
        self._max_admitted = max_admitted
        self._max_waiting = max_waiting
        self._seats = SeatTable()
        # Denied or removed people stay out until staff invite them again under a new identity.
        self._barred: set[str] = set()
        self._seq = 0
        self._ended: EndReason | None = None

    # --- queries ---

    @property
    def room_id(self) -> str:
        return self._spec.room_id

    @property
    def booking_id(self) -> str:
        return self._spec.booking_id

    def now(self) -> datetime:
        """The room's clock (injected), for what the live room decides about time."""
        return self._clock.now()

    def state(self, now: datetime | None = None) -> RoomState:
        """Scheduled before the opening window, open inside it, closed once ended or long over."""
        now = self._clock.now() if now is None else now
        if self._ended is not None or now >= self.closes_at:
            return RoomState.CLOSED
        if now < self.opens_at:
            return RoomState.SCHEDULED
        return RoomState.OPEN

    @property
    def end_reason(self) -> EndReason | None:
        return self._ended

    def participant(self, participant_id: ParticipantId) -> Participant | None:
        seat = self._seats.get(participant_id)
        return None if seat is None else seat.view()

    def participants(self) -> tuple[Participant, ...]:
        """Every seat, waiting or admitted."""
        return tuple(seat.view() for seat in self._seats)

    def roster(self) -> Roster:
        """The admitted set, in admission order: the one roster every participant is shown."""
        admitted = sorted(self._admitted(), key=lambda s: s.admitted_seq)
        return Roster(tuple(seat.entry() for seat in admitted), self._recorder)

    def set_recorder(self, recorder: RecorderEntry | None) -> list[Outgoing]:
        """The recorder joins (or leaves) the roster everyone sees."""
        if recorder == self._recorder:
            return []
        self._recorder = recorder
        return [self._roster_notice()]

    def waiting_list(self) -> tuple[RosterEntry, ...]:
        """Who waits to be admitted, for staff."""
        return tuple(s.entry() for s in self._seats.with_status(SeatStatus.WAITING))

    def require_admitted(self, participant_id: ParticipantId) -> Participant:
        """The participant, if admitted: the check before offer, answer and candidate go to the media."""
        return self._admitted_seat(participant_id).view()

    # --- joining and leaving ---

    def join(self, identity: Identity) -> JoinResult:
        """Take a seat: booking staff are admitted, everyone else waits.

        The same subject joining again takes its existing seat back (a reload, a second device); the
        old connection is then ``replaced``.
        """
        self._require_open()
        if identity.subject in self._barred:
            raise JoinRefused("you were turned away from this consultation")
        existing = self._seats.for_subject(identity.subject)
        if existing is not None:
            return self._reconnect(existing)

        direct = identity.is_staff and identity.subject in self._spec.staff_subjects
        if direct and len(self._admitted()) >= self._max_admitted:
            raise RoomFull("the consultation is full")
        if not direct and self._count(SeatStatus.WAITING) >= self._max_waiting:
            raise RoomFull("the waiting room is full")

        participant_id = ParticipantId(secrets.token_urlsafe(_PARTICIPANT_ID_BYTES))
        token = new_resume_token()
        seat = Seat(participant_id, identity, SeatStatus.WAITING, token_hash(token))
        self._seats.add(seat)
        log.info("room %s: %s joined as %s", self.room_id, participant_id, identity.role)
        if direct:
            out = self._admit_seat(seat)
        else:
            out = [
                Outgoing(frozenset({participant_id}), Waiting(participant_id)),
                self._waiting_notice(),
                self._waiting_status(frozenset({participant_id})),
            ]
        return JoinResult(seat.view(), token, tuple(out))

    def resume(self, resume_token: str, identity: Identity) -> JoinResult:
        """Take back a seat kept through a dropped connection. The token is rotated.

        The token alone is not enough: the session's subject must match the seat's, so a leaked token
        is useless to anyone else.
        """
        self._require_open()
        seat = self._seats.for_token(resume_token)
        now = self._clock.now()
        if seat is None or seat.identity.subject != identity.subject or self._expired(seat, now):
            raise ResumeRefused("this seat cannot be resumed; join again")
        return self._reconnect(seat)

    def disconnect(self, participant_id: ParticipantId) -> list[Outgoing]:
        """The connection dropped: keep the seat for the grace period. Unknown ids are ignored."""
        seat = self._seats.get(participant_id)
        if seat is None or not seat.connected or self._ended is not None:
            return []
        seat.connected = False
        seat.disconnected_at = self._clock.now()
        return [self._changed_notice(seat.status), *self._staff_change(seat)]

    def leave(self, participant_id: ParticipantId) -> list[Outgoing]:
        """The participant left on purpose. Idempotent."""
        seat = self._seats.get(participant_id)
        if seat is None or self._ended is not None:
            return []
        self._seats.drop(seat)
        return [
            Outgoing(frozenset(), SeatReleased(participant_id, EndReason.LEFT)),
            self._changed_notice(seat.status),
            *self._staff_change(seat),
        ]

    def reap(self, now: datetime | None = None) -> list[Outgoing]:
        """Release seats whose grace period is over, and close the room once its slot is long over.

        Called periodically by the signaling layer; returns what to deliver.
        """
        if self._ended is not None:
            return []
        now = self._clock.now() if now is None else now
        if now >= self.closes_at:
            return self._close(EndReason.TIME_OVER)
        expired = [seat for seat in self._seats if self._expired(seat, now)]
        out: list[Outgoing] = []
        for seat in expired:
            self._seats.drop(seat)
            out.append(Outgoing(frozenset(), SeatReleased(seat.participant_id, EndReason.EXPIRED)))
            log.info("room %s: reaped %s", self.room_id, seat.participant_id)
        for status in sorted({seat.status for seat in expired}):
            out.append(self._changed_notice(status))
        if any(seat.identity.is_staff and seat.status is SeatStatus.ADMITTED for seat in expired):
            out.append(self._waiting_status())
        return out

    # --- staff actions ---

    def admit(self, actor: ParticipantId, target: ParticipantId) -> list[Outgoing]:
        """A staff participant lets someone in from the waiting room."""
        self._require_staff(actor)
        seat = self._target(target)
        if seat.status is not SeatStatus.WAITING:
            raise InvalidTransition("only someone in the waiting room can be admitted")
        if len(self._admitted()) >= self._max_admitted:
            raise RoomFull("the consultation is full")
        return self._admit_seat(seat)

    def deny(self, actor: ParticipantId, target: ParticipantId) -> list[Outgoing]:
        """A staff participant turns someone away from the waiting room; they cannot come back."""
        self._require_staff(actor)
        seat = self._target(target)
        if seat.status is not SeatStatus.WAITING:
            raise InvalidTransition("only someone in the waiting room can be denied")
        self._seats.drop(seat)
        self._barred.add(seat.identity.subject)
        return [
            Outgoing(frozenset({target}), Denied(target)),
            Outgoing(frozenset(), SeatReleased(target, EndReason.DENIED)),
            self._waiting_notice(),
        ]

    def remove(self, actor: ParticipantId, target: ParticipantId) -> list[Outgoing]:
        """A staff participant removes someone (admitted or waiting); they cannot come back."""
        self._require_staff(actor)
        if target == actor:
            raise InvalidTransition("use leave to leave")
        seat = self._target(target)
        self._seats.drop(seat)
        self._barred.add(seat.identity.subject)
        return [
            Outgoing(frozenset({target}), SeatReleased(target, EndReason.REMOVED)),
            self._changed_notice(seat.status),
            *self._staff_change(seat),
        ]

    def invite(self, actor: ParticipantId, display_name: str, role: ParticipantRole) -> Invitation:
        """A staff participant asks for a join code for someone who is not on the booking."""
        actor_seat = self._require_staff(actor)
        if role not in CODE_ROLES:
            raise InvalidInvite("staff join with their own login, not a join code")
        if not is_display_text(display_name, MAX_NAME_CHARS):
            raise InvalidInvite("the name must be 1-100 printable characters")
        return Invitation(self.room_id, role, display_name, actor_seat.identity.subject)

    def message_waiting(self, actor: ParticipantId, text: str) -> list[Outgoing]:
        """A staff participant sends a short note to everyone in the waiting room ("running late").

        Refused, never shortened, when it is blank or longer than ``MAX_WAITING_MESSAGE_CHARS``; with
        nobody waiting there is no one to tell, which is refused too so staff are not misled.
        """
        seat = self._require_staff(actor)
        if not text.strip() or len(text) > MAX_WAITING_MESSAGE_CHARS:
            raise InvalidTransition(f"a note to the waiting room has 1-{MAX_WAITING_MESSAGE_CHARS} characters",
                                    code="waiting_message_length")
        waiting = frozenset(s.participant_id for s in self._seats.with_status(SeatStatus.WAITING))
        if not waiting:
            raise InvalidTransition("nobody is waiting", code="nobody_waiting")
        event = WaitingRoomMessage(actor, seat.identity.display_name, text, self._clock.now())
        return [Outgoing(waiting | self._staff_ids(), event)]

    def end(self, actor: ParticipantId) -> list[Outgoing]:
        """A staff participant ends the consultation for everyone."""
        self._require_staff(actor)
        return self._close(EndReason.ENDED_BY_STAFF)

    async def close(self, reason: EndReason = EndReason.SHUTDOWN) -> list[Outgoing]:
        """Close the room (server shutdown, booking cancelled). Idempotent: later calls return nothing."""
        return self._close(reason)

    # --- in-call actions ---

    def publish_track(
        self, participant_id: ParticipantId, track_id: str, kind: TrackKind, label: str
    ) -> list[Outgoing]:
        """Record a track's metadata; one per kind, so a new camera replaces the previous one."""
        seat = self._admitted_seat(participant_id)
        if not is_display_text(label, MAX_LABEL_CHARS) or not track_id:
            raise InvalidTransition("a track needs an id and a printable label")
        track = TrackInfo(track_id, kind, label, seat.muted.get(kind, False))
        seat.tracks[kind] = track
        return [Outgoing(self._admitted_ids() - {participant_id}, TrackPublished(participant_id, track))]

    def unpublish_track(self, participant_id: ParticipantId, kind: TrackKind) -> list[Outgoing]:
        """A track ended (screen share stopped, camera removed); everyone gets the updated roster."""
        seat = self._admitted_seat(participant_id)
        if seat.tracks.pop(kind, None) is None:
            return []
        return [self._roster_notice()]

    def set_mute(self, participant_id: ParticipantId, kind: TrackKind, muted: bool) -> list[Outgoing]:
        """Mute or unmute one kind of track; remembered even before that track is published."""
        seat = self._admitted_seat(participant_id)
        if seat.muted.get(kind, False) == muted:
            return []
        seat.muted[kind] = muted
        return [Outgoing(self._admitted_ids() - {participant_id}, MuteChanged(participant_id, kind, muted))]

    def chat(self, participant_id: ParticipantId, text: str) -> list[Outgoing]:
        """Post a chat message to everyone admitted."""
        seat = self._admitted_seat(participant_id)
        if not text.strip() or len(text) > MAX_CHAT_CHARS:
            raise InvalidTransition(f"a chat message has 1-{MAX_CHAT_CHARS} characters")
        event = ChatPosted(participant_id, seat.identity.display_name, text, self._clock.now())
        return [Outgoing(self._admitted_ids(), event)]

    def post_reading(self, participant_id: ParticipantId, reading: Reading) -> list[Outgoing]:
        """Share a measurement with everyone admitted; only nurses and specialists may."""
        seat = self._admitted_seat(participant_id)
        if not seat.identity.role.may_post_readings:
            raise Forbidden("only the nurse or the specialist can share readings")
        event = ReadingPosted(participant_id, seat.identity.display_name, reading, self._clock.now())
        return [Outgoing(self._admitted_ids(), event)]

    # --- internals ---

    def _require_open(self) -> None:
        state = self.state()
        if state is RoomState.SCHEDULED:
            raise RoomNotOpen("the consultation room is not open yet", opens_at=self.opens_at)
        if state is RoomState.CLOSED:
            raise RoomClosed("the consultation is over")

    def _admitted(self) -> list[Seat]:
        return self._seats.with_status(SeatStatus.ADMITTED)

    def _admitted_ids(self) -> frozenset[ParticipantId]:
        return frozenset(s.participant_id for s in self._admitted())

    def _staff_ids(self) -> frozenset[ParticipantId]:
        return frozenset(s.participant_id for s in self._admitted() if s.identity.is_staff)

    def _count(self, status: SeatStatus) -> int:
        return len(self._seats.with_status(status))

    def _expired(self, seat: Seat, now: datetime) -> bool:
        return seat.disconnected_at is not None and now >= seat.disconnected_at + self._grace

    def _admitted_seat(self, participant_id: ParticipantId) -> Seat:
        if self._ended is not None:
            raise RoomClosed("the consultation is over")
        seat = self._seats.get(participant_id)
        if seat is None:
            raise UnknownParticipant("no such participant in this room")
        if seat.status is not SeatStatus.ADMITTED:
            raise NotAdmitted("wait until you are let in")
        return seat

    def _require_staff(self, participant_id: ParticipantId) -> Seat:
        seat = self._admitted_seat(participant_id)
        if not seat.identity.is_staff:
            raise Forbidden("only staff can do this")
        return seat

    def _target(self, participant_id: ParticipantId) -> Seat:
        seat = self._seats.get(participant_id)
        if seat is None:
            raise UnknownParticipant("no such participant in this room")
        return seat

    def _reconnect(self, seat: Seat) -> JoinResult:
        replaced = seat.connected
        seat.connected = True
        seat.disconnected_at = None
        token = self._seats.rotate_token(seat)
        me = frozenset({seat.participant_id})
        out: list[Outgoing] = []
        if seat.status is SeatStatus.ADMITTED:
            out.append(Outgoing(me, Admitted(seat.participant_id)))
            out.append(self._roster_notice())
            if seat.identity.is_staff:
                out.append(Outgoing(me, WaitingListChanged(self.waiting_list())))
                out.append(self._waiting_status())
        else:
            out.append(Outgoing(me, Waiting(seat.participant_id)))
            out.append(self._waiting_notice())
            out.append(self._waiting_status(me))
        return JoinResult(seat.view(), token, tuple(out), replaced=replaced)

    def _admit_seat(self, seat: Seat) -> list[Outgoing]:
        self._seq += 1
        seat.status = SeatStatus.ADMITTED
        seat.admitted_seq = self._seq
        me = frozenset({seat.participant_id})
        # The waiting list goes to all staff, the newcomer included: staff who just entered need it
        # even though it did not change for the others.
        out = [Outgoing(me, Admitted(seat.participant_id)), self._roster_notice(), self._waiting_notice()]
        if seat.identity.is_staff:
            out.append(self._waiting_status())  # those waiting learn that someone now sees them
        return out

    def _roster_notice(self) -> Outgoing:
        return Outgoing(self._admitted_ids(), RosterChanged(self.roster()))

    def _waiting_notice(self) -> Outgoing:
        return Outgoing(self._staff_ids(), WaitingListChanged(self.waiting_list()))

    def _waiting_status(self, to: frozenset[ParticipantId] | None = None) -> Outgoing:
        """Tell those waiting (or only ``to``) which staff are in the call and connected, so see them."""
        waiting = frozenset(s.participant_id for s in self._seats.with_status(SeatStatus.WAITING))
        roles = sorted({s.identity.role for s in self._admitted() if s.identity.is_staff and s.connected})
        return Outgoing(waiting if to is None else to & waiting, WaitingRoomStatus(tuple(roles)))

    def _staff_change(self, seat: Seat) -> list[Outgoing]:
        # An admitted staff member came or went: what those waiting were told may no longer hold.
        return [self._waiting_status()] if seat.identity.is_staff and seat.status is SeatStatus.ADMITTED else []

    def _changed_notice(self, status: SeatStatus) -> Outgoing:
        return self._roster_notice() if status is SeatStatus.ADMITTED else self._waiting_notice()

    def _close(self, reason: EndReason) -> list[Outgoing]:
        if self._ended is not None:
            return []
        self._ended = reason
        everyone = self._seats.ids()
        self._seats.clear()
        log.info("room %s closed: %s", self.room_id, reason)
        return [Outgoing(everyone, RoomEnded(reason))]
