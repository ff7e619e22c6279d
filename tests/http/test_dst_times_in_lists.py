"""The night summer time ends, 02.30 happens twice: the day list and the week calendar tell them apart."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp.test_utils import TestClient

from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import login_as
from tests.volume_data import add_booking

# 31 October 2027: at 03.00 summer time (UTC+2) the clocks go back to 02.00 (UTC+1).
FIRST = (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), datetime(2027, 10, 31, 1, 0, tzinfo=UTC))
SECOND = (datetime(2027, 10, 31, 1, 30, tzinfo=UTC), datetime(2027, 10, 31, 2, 0, tzinfo=UTC))


async def test_the_two_0230_bookings_read_differently(client: TestClient, db: Database, seeded: Seeded,
                                                      clock: FixedClock) -> None:
    await add_booking(db, clock, *FIRST)
    await add_booking(db, clock, *SECOND)
    await login_as(client, "lege", clock)
    day = await (await client.get("/day?date=2027-10-31")).text()
    week = await (await client.get("/calendar?week=2027-10-31")).text()
    for page in (day, week):
        # the first ends at 02.00 after the change, the second at 03.00: neither reads backwards
        assert "02.30 (UTC+2)–02.00 (UTC+1)" in page
        assert "02.30 (UTC+1)–03.00" in page
        assert "02.30–02.00" not in page and "02.30–03.00" not in page
