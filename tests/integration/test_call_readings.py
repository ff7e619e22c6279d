"""A reading shared in the call lands in the joint note as a new version; a signed note is left alone."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from notes.service import NoteService
from rooms.readings import Reading, ReadingName
from rooms.roster import Identity, ParticipantRole
from scheduling.models import Booking
from server.call_readings import NoteReadingSink
from server.consultation_directory import SqlConsultationDirectory
from server.people.models import Patient, User
from server.people.patients import PatientService
from server.people.staff_actor import staff_actor
from server.platform.audit import AuditLog
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded


async def test_call_readings_are_kept_in_the_note(db: Database, seeded: Seeded, clock: FixedClock) -> None:
    audit = AuditLog(clock)
    notes = NoteService(clock, audit, PatientService(clock, audit), SqlConsultationDirectory())
    sink = NoteReadingSink(db, notes)
    async with db.session() as session:
        booking = (await session.execute(select(Booking.public_id).join(Patient, Booking.patient_id == Patient.id)
                                          .where(Patient.given_name == "Marit"))).scalars().one()
        nurse = await session.get(User, seeded.users["sykepleier.rodoy"])
        assert nurse is not None
        actor = staff_actor(nurse)
    identity = Identity(subject=f"user:{seeded.users['sykepleier.rodoy']}", role=ParticipantRole.NURSE,
                        display_name="Kari Nilsen")
    await sink(booking, identity, Reading(ReadingName.BLOOD_PRESSURE, "142/88", clock.now()))
    await sink(booking, identity, Reading(ReadingName.SPO2, 94, clock.now() + timedelta(minutes=1)))
    async with db.session() as session:
        view = await notes.open_for_booking(session, actor, booking)
    readings = view.state.content.readings
    assert [(r.kind.value, r.value, r.diastolic, r.unit) for r in readings] == [
        ("blood_pressure", Decimal(142), Decimal(88), "mm[Hg]"), ("spo2", Decimal(94), None, "%")]
    assert all(r.taken_by == "Kari Nilsen" for r in readings)
    assert view.state.version == 3  # created empty, then one version per reading

    # A guest's identity never writes into the note.
    guest = Identity(subject="code:abc", role=ParticipantRole.RELATIVE, display_name="Datter")
    await sink(booking, guest, Reading(ReadingName.PULSE, 80, clock.now()))
    async with db.session() as session:
        assert (await notes.open_for_booking(session, actor, booking)).state.version == 3
