"""Who is in a consultation: roles, identities, tracks and the roster everyone sees.

The roster is never stored on its own: ``Room.roster()`` derives it from the admitted seats each
time, so what participants are shown cannot drift from who the server actually forwards media to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NewType

ParticipantId = NewType("ParticipantId", str)
"""A random, unguessable id for one seat in one room; it leaves the server in rosters and events."""

# Display names and labels reach other people's screens: printable text only, no control characters
# (which could spoof line breaks or bidi-reorder a name).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

MAX_NAME_CHARS = 100
MAX_LABEL_CHARS = 80


def is_display_text(value: str, max_chars: int) -> bool:
    """True for non-blank printable text of at most ``max_chars`` characters, encodable as UTF-8."""
    if not value.strip() or len(value) > max_chars or _CONTROL.search(value):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot be sent on to other participants
        return False
    return True


class ParticipantRole(StrEnum):
    """The part someone plays in a consultation (not the staff account role)."""

    SPECIALIST = "specialist"
    NURSE = "nurse"
    COORDINATOR = "coordinator"
    PATIENT = "patient"
    RELATIVE = "relative"
    INTERPRETER = "interpreter"

    @property
    def is_staff(self) -> bool:
        return self in STAFF_ROLES

    @property
    def may_post_readings(self) -> bool:
        return self in READING_ROLES


STAFF_ROLES = frozenset({ParticipantRole.SPECIALIST, ParticipantRole.NURSE, ParticipantRole.COORDINATOR})
# Readings are measured by the nurse in the health room; a specialist may correct or add one.
READING_ROLES = frozenset({ParticipantRole.NURSE, ParticipantRole.SPECIALIST})
# People without a staff login get in with a one-time join code.
CODE_ROLES = frozenset({ParticipantRole.PATIENT, ParticipantRole.RELATIVE, ParticipantRole.INTERPRETER})


class TrackKind(StrEnum):
    """What a published track shows; at most one track of each kind per participant."""

    AUDIO = "audio"
    ROOM_CAMERA = "room_camera"
    EXAM_CAMERA = "exam_camera"
    SCREEN = "screen"


@dataclass(frozen=True)
class HealthRoomPresence:
    """Where a participant sits when not at home: "in health room R with nurse N"."""

    health_room: str
    nurse_name: str


@dataclass(frozen=True)
class Identity:
    """Who is joining, as established by the authenticated session (never by a message).

    ``subject`` is stable for one person in one room: ``user:<id>`` for staff, ``code:<id>`` for
    someone who exchanged a join code. Booking staff are recognised by it.
    """

    subject: str
    role: ParticipantRole
    display_name: str
    organisation: str = ""
    presence: HealthRoomPresence | None = None

    def __post_init__(self) -> None:
        if not self.subject:
            raise ValueError("identity needs a subject")
        if not is_display_text(self.display_name, MAX_NAME_CHARS):
            raise ValueError("display name must be 1-100 printable characters")

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff


class SeatStatus(StrEnum):
    """Where a seat is: in the waiting room or in the call."""

    WAITING = "waiting"
    ADMITTED = "admitted"


@dataclass(frozen=True)
class TrackInfo:
    """Metadata of one published track, sent to everyone so tiles can be labelled."""

    track_id: str
    kind: TrackKind
    label: str
    muted: bool = False


@dataclass(frozen=True)
class RosterEntry:
    """One line of the roster (or of the waiting list shown to staff)."""

    participant_id: ParticipantId
    display_name: str
    role: ParticipantRole
    organisation: str
    is_staff: bool
    presence: HealthRoomPresence | None
    connected: bool
    tracks: tuple[TrackInfo, ...] = field(default=())


@dataclass(frozen=True)
class RecorderEntry:
    """The recorder, listed with the participants while it records: never a hidden participant."""

    display_name: str
    purpose: str
    proposed_by_name: str
    started_at: datetime


@dataclass(frozen=True)
class Roster:
    """The admitted participants, in the order they were admitted; identical for every recipient.

    ``recorder`` is set while the consultation is being recorded.
    """

    entries: tuple[RosterEntry, ...]
    recorder: RecorderEntry | None = None

    @property
    def participant_ids(self) -> frozenset[ParticipantId]:
        return frozenset(e.participant_id for e in self.entries)

    def __len__(self) -> int:
        return len(self.entries)
