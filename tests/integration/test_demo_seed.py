"""A fresh demo seed holds a joint consultation that can be tried at once, whatever the hour of seeding,
and still the one on the next working day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rooms.room import Room
from rooms.roster import ParticipantRole
from rooms.seats import RoomState
from server.booking_directory import SqlBookingDirectory
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded


@pytest.fixture(params=[datetime(2026, 11, 23, 8, 0, tzinfo=UTC),  # a Monday morning in Oslo
                        datetime(2026, 11, 28, 22, 53, 17, tzinfo=UTC)],  # a Saturday, just before midnight
                ids=["monday-morning", "saturday-night"])
def clock(request: pytest.FixtureRequest) -> FixedClock:
    return FixedClock(request.param)


async def test_the_demo_has_a_consultation_open_within_minutes_of_seeding(
        db: Database, seeded: Seeded, clock: FixedClock) -> None:
    seeded_at = clock.now()
    directory = SqlBookingDirectory(db)
    soon = await directory.rooms_for_staff(seeded.users["lege"], seeded_at, seeded_at + timedelta(hours=1))
    assert len(soon) == 1, soon
    booking = soon[0]
    room = Room(booking.spec(), clock=clock)
    assert room.state(seeded_at + timedelta(minutes=5)) is RoomState.OPEN  # within minutes of first start
    assert room.state(seeded_at + timedelta(minutes=45)) is RoomState.OPEN  # and long enough to try it
    assert booking.staff == {f"user:{seeded.users['lege']}": ParticipantRole.SPECIALIST,
                             f"user:{seeded.users['sykepleier.rodoy']}": ParticipantRole.NURSE}
    assert booking.health_room == "Helserom Rødøy" and booking.nurse_name == "Kari Nilsen"
    # The nurse finds it too, and the joint consultation on a later working day is still there.
    nurse_rooms = await directory.rooms_for_staff(seeded.users["sykepleier.rodoy"], seeded_at,
                                                  seeded_at + timedelta(days=15))
    assert nurse_rooms[0].booking_id == booking.booking_id
    later = [b for b in nurse_rooms if b.patient_name == "Marit Eriksen"]
    assert later and later[0].starts_at - seeded_at >= timedelta(days=1)
