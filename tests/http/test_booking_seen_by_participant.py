"""Staff of another organisation see the consultation they take part in, and only that one: on the
booking page, in their day list and in the calendar, each view audited in the patient's log."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.people.models import Patient
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.local_time import OSLO
from tests.conftest import Seeded
from tests.helpers import login_as
from tests.volume_data import WEEK, add_booking


async def test_a_participant_of_another_organisation_sees_the_booking_and_is_audited(
        client: TestClient, db: Database, seeded: Seeded, clock: FixedClock) -> None:
    start = datetime.combine(WEEK, time(9), tzinfo=OSLO)
    # Johan is a patient of Lurøy and the hospital; Rødøy's nurse takes part in one consultation of his...
    taking_part = await add_booking(db, clock, start, start + timedelta(minutes=30), username="sykepleier.rodoy",
                                    patient_public_id=seeded.patients["Johan"])
    # ...and not in another one, the specialist's.
    other = await add_booking(db, clock, start, start + timedelta(minutes=30), username="lege",
                              patient_public_id=seeded.patients["Johan"])
    async with db.session() as session:
        johan = (await session.execute(select(Patient.id).where(
            Patient.public_id == seeded.patients["Johan"]))).scalar_one()
        before = len((await session.execute(select(AuditEntry.seq))).all())

    await login_as(client, "sykepleier.rodoy", clock)
    assert (await client.get(f"/bookings/{taking_part}")).status == 200
    assert (await client.get(f"/bookings/{other}")).status == 404
    day = await (await client.get(f"/day?date={WEEK.isoformat()}")).text()
    assert f"/bookings/{taking_part}" in day and "Johan Pedersen" in day
    week = await (await client.get(f"/calendar?week={WEEK.isoformat()}")).text()
    assert re.findall(r'href="/bookings/([^"]+)"', week) == [taking_part]

    async with db.session() as session:
        rows = (await session.execute(select(AuditEntry).where(AuditEntry.seq > before,
                                                               AuditEntry.object_type == "booking")
                                      .order_by(AuditEntry.seq))).scalars().all()
    assert [(r.action, r.object_id, r.patient_id) for r in rows] == [
        ("read", taking_part, johan), ("list", taking_part, johan), ("list", taking_part, johan)]
