"""Fixtures for the scheduling integration tests: services wired on the demo data, actors, lookups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from scheduling.models import ConsultationType, Resource
from scheduling.services.factory import SchedulingServices
from scheduling.services.notifications import NotificationSettings
from server.people.models import Organisation, User
from server.people.staff_actor import staff_actor
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded

OSLO = ZoneInfo("Europe/Oslo")
PUBLIC_URL = "https://samkonsult.example.no"


def oslo(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    """A local Oslo wall time as an aware UTC datetime."""
    return datetime.combine(datetime(y, m, d).date(), time(hh, mm), tzinfo=OSLO).astimezone(UTC)


@dataclass
class World:
    """The demo data seen by a test: actors, resource ids by name, type ids by code, patients."""

    actors: dict[str, Actor]
    resources: dict[str, int]
    types: dict[str, int]
    patients: dict[str, str]
    organisations: dict[str, int]


@pytest.fixture
def services(clock: FixedClock) -> SchedulingServices:
    return SchedulingServices.create(
        clock, AuditLog(clock),
        NotificationSettings(public_url=PUBLIC_URL, organizer_email="koordinator@example.no",
                             reminder_lead=timedelta(hours=24)))


@pytest.fixture
async def world(db: Database, seeded: Seeded) -> World:
    async with db.session() as session:
        users = (await session.execute(select(User))).scalars().all()
        actors = {u.username: staff_actor(u) for u in users}
        resources = {r.name: r.id for r in (await session.execute(select(Resource))).scalars()}
        types = {t.code: t.id for t in (await session.execute(select(ConsultationType))).scalars()}
        orgs = {o.name: o.id for o in (await session.execute(select(Organisation))).scalars()}
    return World(actors=actors, resources=resources, types=types, patients=seeded.patients, organisations=orgs)
