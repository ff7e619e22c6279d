"""Shared test data for the pure room and join code tests (imported by conftest and the tests).

Imported as ``tests.unit.rooms.rooms_testkit``: tests never import from ``conftest``, whose name is not
unique across test folders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rooms.roster import HealthRoomPresence, Identity, ParticipantRole
from rooms.seats import RoomSpec
from server.platform.clock import FixedClock

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
END = START + timedelta(minutes=45)


@dataclass(frozen=True)
class People:
    specialist: Identity
    nurse: Identity
    coordinator: Identity
    patient: Identity
    relative: Identity
    interpreter: Identity
    outside_nurse: Identity  # staff, but not on this booking


def make_people() -> People:
    return People(
        specialist=Identity("user:1", ParticipantRole.SPECIALIST, "Lege Berg", "Sykehuset Innlandet"),
        nurse=Identity(
            "user:2",
            ParticipantRole.NURSE,
            "Sykepleier Nilsen",
            "Nordre Land kommune",
            HealthRoomPresence("Helserom Dokka", "Sykepleier Nilsen"),
        ),
        coordinator=Identity("user:3", ParticipantRole.COORDINATOR, "Koordinator Lie", "Sykehuset Innlandet"),
        patient=Identity(
            "code:patient",
            ParticipantRole.PATIENT,
            "Ola Nordmann",
            presence=HealthRoomPresence("Helserom Dokka", "Sykepleier Nilsen"),
        ),
        relative=Identity("code:relative", ParticipantRole.RELATIVE, "Kari Nordmann"),
        interpreter=Identity("code:interpreter", ParticipantRole.INTERPRETER, "Tolk Ahmed"),
        outside_nurse=Identity("user:9", ParticipantRole.NURSE, "Vikar Hansen", "Nordre Land kommune"),
    )


def make_clock() -> FixedClock:
    # Inside the opening window, five minutes before the start.
    return FixedClock(START - timedelta(minutes=5))


def make_spec() -> RoomSpec:
    return RoomSpec(
        room_id="room-abc",
        booking_id="42",
        starts_at=START,
        ends_at=END,
        staff_subjects=frozenset({"user:1", "user:2", "user:3"}),
    )
