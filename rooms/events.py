"""What a room tells its participants: the events ``Room`` returns, each addressed by an ``Outgoing``.

Kept apart from :mod:`rooms.room` so the transport (which turns events into wire messages) and the room
(which decides who hears what) share a small vocabulary without the transport reading the rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from rooms.readings import Reading
from rooms.roster import ParticipantId, ParticipantRole, Roster, RosterEntry, TrackInfo, TrackKind


class EndReason(StrEnum):
    """Why a room closed, or why one seat was let go."""

    ENDED_BY_STAFF = "ended_by_staff"
    TIME_OVER = "time_over"
    SHUTDOWN = "shutdown"
    LEFT = "left"
    DENIED = "denied"
    REMOVED = "removed"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Waiting:
    """To the joiner: you are in the waiting room."""

    participant_id: ParticipantId


@dataclass(frozen=True)
class Admitted:
    """To the joiner: you are in the call (directly, or admitted by staff)."""

    participant_id: ParticipantId


@dataclass(frozen=True)
class Denied:
    """To the joiner: staff turned you away from the waiting room."""

    participant_id: ParticipantId


@dataclass(frozen=True)
class WaitingRoomStatus:
    """To everyone waiting: which kinds of staff are in the call and can see the waiting room.

    Empty while no staff member is in: the guest is then told to wait, not that someone knows."""

    staff_roles: tuple[ParticipantRole, ...]


@dataclass(frozen=True)
class WaitingRoomMessage:
    """To everyone waiting (and to the staff in the call, as a receipt): a short note from staff."""

    participant_id: ParticipantId
    display_name: str
    text: str
    sent_at: datetime


@dataclass(frozen=True)
class RosterChanged:
    """To everyone admitted: the complete roster, identical for each of them."""

    roster: Roster


@dataclass(frozen=True)
class WaitingListChanged:
    """To admitted staff: who is in the waiting room."""

    entries: tuple[RosterEntry, ...]


@dataclass(frozen=True)
class TrackPublished:
    """To the other admitted participants: a track's metadata (kind and label for the tile)."""

    participant_id: ParticipantId
    track: TrackInfo


@dataclass(frozen=True)
class MuteChanged:
    """To the other admitted participants: a track kind was muted or unmuted."""

    participant_id: ParticipantId
    kind: TrackKind
    muted: bool


@dataclass(frozen=True)
class ChatPosted:
    """To everyone admitted, the sender included (their copy carries the server's time)."""

    participant_id: ParticipantId
    display_name: str
    text: str
    sent_at: datetime


@dataclass(frozen=True)
class ReadingPosted:
    """To everyone admitted, the sender included. Health data: the transport audits it."""

    participant_id: ParticipantId
    display_name: str
    reading: Reading
    posted_at: datetime


@dataclass(frozen=True)
class SeatReleased:
    """A seat is gone. Addressed to the released participant when they should be told (removed,
    denied is told by ``Denied``); the media layer closes that participant's peer connection."""

    participant_id: ParticipantId
    reason: EndReason


@dataclass(frozen=True)
class RoomEnded:
    """To every seat: the room is closed; every seat is released with it."""

    reason: EndReason


RoomEvent = (
    Waiting
    | Admitted
    | Denied
    | RosterChanged
    | WaitingListChanged
    | WaitingRoomStatus
    | WaitingRoomMessage
    | TrackPublished
    | MuteChanged
    | ChatPosted
    | ReadingPosted
    | SeatReleased
    | RoomEnded
)


@dataclass(frozen=True)
class Outgoing:
    """An event and the participants to deliver it to. An empty ``to`` is for the server alone."""

    to: frozenset[ParticipantId]
    event: RoomEvent



def audience(outgoing: Iterable[Outgoing], participant_id: ParticipantId) -> list[RoomEvent]:
    """The events in ``outgoing`` addressed to one participant (handy for the transport and tests)."""
    return [o.event for o in outgoing if participant_id in o.to]
