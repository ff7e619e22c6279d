"""The seats of a room and what a room is told and tells about them: spec, participants, join results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from rooms.events import Outgoing
from rooms.roster import Identity, ParticipantId, ParticipantRole, RosterEntry, SeatStatus, TrackInfo, TrackKind


@dataclass(frozen=True)
class RoomSpec:
    """What a room needs to know about its booking; built by the scheduling side."""

    room_id: str
    booking_id: str
    starts_at: datetime
    ends_at: datetime
    staff_subjects: frozenset[str]
    """Subjects of the booking's staff participants: they skip the waiting room."""

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("booking times must be aware")
        if self.ends_at <= self.starts_at:
            raise ValueError("booking must end after it starts")


class RoomState(StrEnum):
    """Where the room is in its life."""

    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Participant:
    """A read-only view of one seat."""

    participant_id: ParticipantId
    identity: Identity
    status: SeatStatus
    connected: bool

    @property
    def role(self) -> ParticipantRole:
        return self.identity.role

    @property
    def display_name(self) -> str:
        return self.identity.display_name

    @property
    def is_staff(self) -> bool:
        return self.identity.is_staff

    @property
    def is_admitted(self) -> bool:
        return self.status is SeatStatus.ADMITTED


@dataclass(frozen=True)
class JoinResult:
    """A seat taken or taken back. ``replaced`` says a still-open connection held it: close that one."""

    participant: Participant
    resume_token: str
    outgoing: tuple[Outgoing, ...]
    replaced: bool = False


@dataclass(frozen=True)
class Invitation:
    """Staff asked for a join code for someone not on the booking; the join code service issues it."""

    room_id: str
    role: ParticipantRole
    display_name: str
    invited_by: str


@dataclass
class Seat:
    """One seat's changing state, owned by its ``Room`` (others get the read-only ``Participant``)."""

    participant_id: ParticipantId
    identity: Identity
    status: SeatStatus
    token_hash: str
    connected: bool = True
    disconnected_at: datetime | None = None
    admitted_seq: int = 0
    tracks: dict[TrackKind, TrackInfo] = field(default_factory=dict)
    muted: dict[TrackKind, bool] = field(default_factory=dict)

    def view(self) -> Participant:
        return Participant(self.participant_id, self.identity, self.status, self.connected)

    def entry(self) -> RosterEntry:
        identity = self.identity
        tracks = tuple(
            TrackInfo(t.track_id, t.kind, t.label, self.muted.get(kind, False))
            for kind, t in sorted(self.tracks.items())
        )
        return RosterEntry(
            participant_id=self.participant_id,
            display_name=identity.display_name,
            role=identity.role,
            organisation=identity.organisation,
            is_staff=identity.is_staff,
            presence=identity.presence,
            connected=self.connected,
            tracks=tracks,
        )
