"""List pages at a real week's volume: one audit row per patient shown, written together after a read
that holds no write lock, the patient's own log still naming the view, and the jobs going on meanwhile."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from scheduling.models import Booking
from scheduling.outbox import OutboxDispatcher, OutgoingMessage
from scheduling.services.factory import SchedulingServices
from scheduling.services.notifications import NotificationSettings
from server.people.access_report import AccessReportService
from server.people.models import Patient, User
from server.people.patients import PatientService
from server.people.staff_actor import staff_actor
from server.platform.audit import AuditLog
from server.platform.audit_models import AuditEntry
from server.platform.audit_reasons import AuditReason
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import login_as
from tests.volume_data import WEEK, add_volume


async def _rows(db: Database, **where: object) -> list[AuditEntry]:
    async with db.session() as session:
        query = select(AuditEntry).order_by(AuditEntry.seq)
        for name, value in where.items():
            query = query.where(getattr(AuditEntry, name) == value)
        return list((await session.execute(query)).scalars())


async def test_the_week_calendar_audits_each_patient_once_and_their_log_names_the_view(
        client: TestClient, db: Database, seeded: Seeded, clock: FixedClock) -> None:
    # 60 bookings of 20 patients: three each in the week
    volume = await add_volume(db, clock, bookings=60, patients=20)
    await login_as(client, "lege", clock)
    before = len(await _rows(db))
    resp = await client.get(f"/calendar?week={WEEK.isoformat()}")
    assert resp.status == 200
    page = await resp.text()
    assert all(f"/bookings/{b}" in page for b in volume.bookings)
    written = (await _rows(db))[before:]
    assert len(written) == 20, "one row per patient shown, not one per booking"
    assert {(r.action, r.object_type, r.reason) for r in written} == {("list", "booking", AuditReason.CALENDAR)}
    async with db.session() as session:
        ids = {p.public_id: p.id for p in (await session.execute(select(Patient))).scalars()}
        first_booking = {}
        for booking in (await session.execute(select(Booking).order_by(Booking.start))).scalars():
            first_booking.setdefault(booking.patient_id, booking.public_id)
        assert (await AuditLog(clock).verify(session)).ok
    assert {r.patient_id for r in written} == {ids[p] for p in volume.patients}
    # each row names the patient's first booking in the view, so it leads to what was shown
    assert {r.object_id for r in written} == {first_booking[ids[p]] for p in volume.patients}

    # The patient's own access report lists the view: who, what and why.
    services = SchedulingServices.create(clock, AuditLog(clock), NotificationSettings(public_url="http://x"))
    reports = AccessReportService(clock, AuditLog(clock), PatientService(clock, AuditLog(clock)))
    async with db.session() as session:
        doctor = (await session.execute(select(User).where(User.username == "lege"))).scalar_one()
        report = await reports.for_staff(session, staff_actor(doctor), volume.patients[3], reports.period(),
                                         reason="kontroll")
    del services
    views = [g for g in report.groups if g.object_type == "booking" and g.reason is AuditReason.CALENDAR]
    assert len(views) == 1 and dict(views[0].actions) == {"list": 1}
    assert views[0].who.name == doctor.display_name


async def test_the_day_list_and_the_queue_write_their_rows_in_one_unit_of_work(
        client: TestClient, db: Database, seeded: Seeded, clock: FixedClock) -> None:
    await add_volume(db, clock, bookings=100, referrals=120, patients=40)
    await login_as(client, "lege", clock)
    day = WEEK + timedelta(days=1)
    before = len(await _rows(db))
    resp = await client.get(f"/day?date={day.isoformat()}")
    assert resp.status == 200
    written = (await _rows(db))[before:]
    # 20 bookings that day, of 20 different patients
    assert len(written) == 20 and {r.reason for r in written} == {AuditReason.DAY_LIST}
    assert len({r.at for r in written}) == 1, "written together, at one moment"

    before = len(await _rows(db))
    resp = await client.get("/api/referrals")
    assert resp.status == 200
    queue = await resp.json()
    written = (await _rows(db))[before:]
    mine = [e for e in queue if e["patient_name"].endswith("Volum")]
    assert len(mine) == 120
    assert len([r for r in written if r.object_type == "referral"]) == len({e["patient_id"] for e in queue})


async def test_a_read_holds_no_write_lock_and_writes_nothing_but_its_audit_rows(
        db: Database, seeded: Seeded, clock: FixedClock, database_url: str, backend: str) -> None:
    await add_volume(db, clock, bookings=20, patients=10)
    audit = AuditLog(clock)
    services = SchedulingServices.create(clock, audit, NotificationSettings(public_url="http://x"))
    async with db.session() as session:
        doctor = staff_actor((await session.execute(select(User).where(User.username == "lege"))).scalar_one())
    before = len(await _rows(db))
    async with audit.reading(db) as session:
        shown = await services.bookings.day_list(session, doctor, WEEK)
        assert len(shown) == 4
        if backend == "sqlite":
            # Another writer gets the write lock at once, in the middle of the read.
            path = database_url.split("///", 1)[1]
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE audit_head SET last_hash = last_hash")
            other.execute("COMMIT")
            other.close()
        else:
            # PostgreSQL refuses a write in a read-only unit of work outright.
            with pytest.raises(DBAPIError):
                await session.execute(text("UPDATE audit_head SET last_hash = last_hash"))
            await session.rollback()
            session.info.clear()
        assert len(await _rows(db)) == before, "nothing is written while the read goes on"
    if backend == "sqlite":
        assert len(await _rows(db)) == before + 4


async def test_outbox_and_reminders_go_on_while_list_pages_are_read(
        client: TestClient, db: Database, seeded: Seeded, clock: FixedClock) -> None:
    await add_volume(db, clock, bookings=100, referrals=200, patients=50)
    services = SchedulingServices.create(
        clock, AuditLog(clock), NotificationSettings(public_url="http://x", reminder_lead=timedelta(days=8)),
        gateways=frozenset())
    await login_as(client, "koordinator", clock)

    class Mailbox:
        def __init__(self) -> None:
            self.sent: list[str] = []

        async def send(self, message: OutgoingMessage) -> None:
            await asyncio.sleep(0)
            self.sent.append(message.recipient)

    mailbox = Mailbox()
    dispatcher = OutboxDispatcher(db, clock, email=mailbox, sms=None)

    async def views() -> None:
        for _ in range(4):
            for path in ("/api/referrals", f"/api/day-list?date={WEEK.isoformat()}", "/referrals"):
                resp = await client.get(path)
                assert resp.status in {200, 404}, await resp.text()

    async def jobs() -> int:
        queued = 0
        for _ in range(10):
            async with db.session() as session:
                queued += await services.notifier.queue_due_reminders(session)
            await dispatcher.dispatch_due()
            await asyncio.sleep(0.01)
        return queued

    results = await asyncio.gather(views(), views(), jobs(), return_exceptions=True)
    problems = [r for r in results if isinstance(r, BaseException)]
    assert not problems, problems
    assert isinstance(results[2], int) and results[2] > 0, "the reminder job queued reminders meanwhile"
    assert mailbox.sent, "and the outbox sent them"
    async with db.session() as session:
        count = (await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
        assert (await AuditLog(clock).verify(session)).checked == count
