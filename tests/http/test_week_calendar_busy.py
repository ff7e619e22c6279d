"""The week calendar shows as busy only what the bookings on it do not explain: the resource's own
calendar, and bookings the reader may not see. Back-to-back bookings are one stretch of busy time in
free/busy; they are bookings on the page, not a long "busy" entry beside them."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from scheduling.models import CalendarSource, CalendarSourceKind, ImportedBusyInterval, Resource
from server.people.models import User
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.local_time import OSLO
from tests.conftest import Seeded
from tests.helpers import login_as
from tests.volume_data import WEEK, add_booking


def _oslo(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(WEEK + timedelta(days=day), time(hour, minute), tzinfo=OSLO)


def _busy(page: str) -> list[str]:
    return re.findall(r'<li class="event busy">([^<]*)</li>', page)


async def test_the_week_calendar_shows_as_busy_only_what_its_bookings_do_not_explain(
        client: TestClient, db: Database, seeded: Seeded, clock: FixedClock) -> None:
    # Monday: three back-to-back consultations of a patient of Rødøy, then one of a patient of Lurøy.
    for k in range(3):
        start = _oslo(0, 9) + timedelta(minutes=30 * k)
        await add_booking(db, clock, start, start + timedelta(minutes=30), patient_public_id=seeded.patients["Astrid"])
    await add_booking(db, clock, _oslo(0, 10, 30), _oslo(0, 11), patient_public_id=seeded.patients["Johan"])
    # Tuesday: an hour from the specialist's own calendar.
    async with db.session() as session:
        doctor = (await session.execute(select(User).where(User.username == "lege"))).scalar_one()
        resource_id = (await session.execute(select(Resource.id).where(Resource.user_id == doctor.id))).scalar_one()
        source = CalendarSource(resource_id=resource_id, kind=CalendarSourceKind.UPLOAD, url="", active=True,
                                last_good_import_at=clock.now(), last_attempt_at=clock.now(), last_error="",
                                occurrences=1, created_at=clock.now())
        session.add(source)
        await session.flush()
        session.add(ImportedBusyInterval(source_id=source.id, resource_id=resource_id, start=_oslo(1, 13),
                                         end=_oslo(1, 14)))
    path = f"/calendar?resource={resource_id}&week={WEEK.isoformat()}"

    # The specialist sees all four bookings, and only the hour of their own calendar as busy.
    await login_as(client, "lege", clock)
    page = await (await client.get(path)).text()
    assert page.count('class="event status-booked"') == 4
    assert _busy(page) == ["13.00–14.00 Opptatt (egen kalender)"]
    await client.post("/logout", data={})
    client.session.cookie_jar.clear()

    # Rødøy's nurse may not see the Lurøy patient's booking: its half hour is busy, and no more.
    await login_as(client, "sykepleier.rodoy", clock)
    page = await (await client.get(path)).text()
    assert page.count('class="event status-booked"') == 3
    assert _busy(page) == ["10.30–11.00 Opptatt (egen kalender)", "13.00–14.00 Opptatt (egen kalender)"]
