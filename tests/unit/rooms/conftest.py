"""Fixtures for the pure room and join code tests: a fixed clock, a booking and its people."""

from __future__ import annotations

import pytest

from rooms.room import Room
from rooms.seats import RoomSpec
from server.platform.clock import FixedClock
from tests.unit.rooms.rooms_testkit import People, make_clock, make_people, make_spec


@pytest.fixture
def people() -> People:
    return make_people()


@pytest.fixture
def clock() -> FixedClock:
    return make_clock()


@pytest.fixture
def spec() -> RoomSpec:
    return make_spec()


@pytest.fixture
def room(spec: RoomSpec, clock: FixedClock) -> Room:
    return Room(spec, clock=clock)
