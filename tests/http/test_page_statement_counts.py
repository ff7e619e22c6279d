"""The busiest pages read in a fixed number of SQL statements, whatever the number of bookings they show.

A week of 5 bookings and a week of 100 cost the week calendar, the day list and a booking page the same
statements: no query per booking, per patient or per participant. The ceilings catch a page that grows
a query of its own (the pages issued 25, 16 and 15 statements before they were reshaped).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import event

from server.platform.appkeys import DATABASE
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.local_time import OSLO
from tests.conftest import Seeded
from tests.helpers import login_as
from tests.volume_data import WEEK, add_booking, add_volume

QUIET_WEEK = WEEK
BUSY_WEEK = WEEK + timedelta(days=7)
CEILINGS = {"calendar": 16, "day": 10, "booking": 10}
"""Statements per page on SQLite, ``BEGIN`` of each unit of work included (PostgreSQL's are not counted)."""


async def _statements(client: TestClient, path: str) -> list[str]:
    """The SQL statements the app's engine issued while answering ``path``."""
    engine = client.app[DATABASE].engine.sync_engine
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        resp = await client.get(path)
        assert resp.status == 200, await resp.text()
        await resp.read()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


async def test_the_busiest_pages_cost_the_same_statements_for_5_bookings_as_for_100(
        client: TestClient, db: Database, seeded: Seeded, clock: FixedClock) -> None:
    busy = await add_volume(db, clock, bookings=100, patients=50, week=BUSY_WEEK)
    quiet = [await add_booking(db, clock, start, start + timedelta(minutes=30), patient_public_id=patient)
             for start, patient in ((datetime.combine(QUIET_WEEK + timedelta(days=i), time(9), tzinfo=OSLO),
                                     busy.patients[i]) for i in range(5))]
    await login_as(client, "lege", clock)
    counts: dict[str, list[int]] = {}
    for week, bookings in ((QUIET_WEEK, quiet), (BUSY_WEEK, busy.bookings)):
        pages = {
            "calendar": f"/calendar?week={week.isoformat()}",
            "day": f"/day?date={(week + timedelta(days=1)).isoformat()}",
            "booking": f"/bookings/{bookings[-1]}",
        }
        for name, path in pages.items():
            statements = await _statements(client, path)
            counts.setdefault(name, []).append(len(statements))
            assert len(statements) <= CEILINGS[name], (name, statements)
    assert all(quiet_count == busy_count for quiet_count, busy_count in counts.values()), counts
