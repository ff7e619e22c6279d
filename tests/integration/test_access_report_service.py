"""The access report against the real audit log on SQLite and PostgreSQL: who may read it, what it holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.people.access_report import AccessReportService
from server.people.models import Patient, User
from server.people.patients import PatientService
from server.people.staff_actor import staff_actor
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.audit_models import AuditEntry
from server.platform.audit_reasons import AuditReason
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.errors import NotFound
from tests.conftest import Seeded


def _guest(role: str, name: str) -> Actor:
    return Actor(kind="guest", id=f"code:{role}", name=name, role=role, organisation_id=None, organisation_name="")


async def _staff(db: Database, username: str) -> Actor:
    async with db.session() as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one()
        return staff_actor(user)


async def _patient_id(db: Database, given_name: str) -> int:
    async with db.session() as session:
        return (await session.execute(select(Patient.id).where(Patient.given_name == given_name))).scalar_one()


@pytest.fixture
def service(clock: FixedClock) -> AccessReportService:
    audit = AuditLog(clock)
    return AccessReportService(clock, audit, PatientService(clock, audit))


async def test_report_holds_this_patients_accesses_only_grouped_and_labelled(
        db: Database, seeded: Seeded, clock: FixedClock, service: AccessReportService) -> None:
    audit = AuditLog(clock)
    doctor, nurse_luroy = await _staff(db, "lege"), await _staff(db, "sykepleier.luroy")
    marit, johan = await _patient_id(db, "Marit"), await _patient_id(db, "Johan")
    clock.advance(timedelta(days=1))
    async with db.session() as session:
        await audit.record(session, doctor, action="read", object_type="patient", object_id="p",
                           patient_id=marit, reason="Pågående behandling")
        await audit.record(session, doctor, action="list", object_type="patient", object_id="p",
                           patient_id=marit, reason=AuditReason.PATIENT_LIST)
        # Another patient's access, by someone who never touched Marit: must not show in her report.
        await audit.record(session, nurse_luroy, action="read", object_type="patient", object_id="q",
                           patient_id=johan, reason="Hemmelig grunn for Johan")
        await audit.record(session, _guest("relative", "Kari Nordmann"), action="read_shared", object_type="note",
                           object_id="n", patient_id=marit, reason=AuditReason.SHARED_SUMMARY)
        # Marit's own visit is not someone else looking.
        await audit.record(session, _guest("patient", "Marit Eriksen"), action="read_shared", object_type="note",
                           object_id="n", patient_id=marit, reason=AuditReason.SHARED_SUMMARY)
    period = service.period()
    clock.advance(timedelta(minutes=5))  # the period was chosen a moment before the report is read
    async with db.session() as session:
        report = await service.for_staff(session, doctor, seeded.patients["Marit"], period,
                                         reason="Pågående behandling")

    names = {g.who.name for g in report.groups}
    # Not the Lurøy nurse, not Marit herself; "Samkonsult" is the system, which created the demo booking.
    assert names == {"Ingrid Hansen", "Kari Nordmann", "Samkonsult"}
    assert {g.reason for g in report.groups if g.who.name == "Samkonsult"} == {AuditReason.DEMO_DATA}
    assert all(g.stated_reason != "Hemmelig grunn for Johan" for g in report.groups)
    assert report.patient_name == "Marit Eriksen"
    assert report.masked_national_id == "218651 *****"  # the birth date (synthetic: month + 80) and no more
    doctor_lines = [g for g in report.groups if g.who.name == "Ingrid Hansen"]
    assert {g.who.profession for g in doctor_lines} == {"doctor"}
    assert {g.who.organisation for g in doctor_lines} == {"Helgelandssykehuset Mo i Rana"}
    # The reading of the report is itself in it, newest first.
    newest = report.groups[0]
    assert newest.object_type == "access_log" and newest.who.name == "Ingrid Hansen"
    assert {g.reason for g in report.groups} >= {AuditReason.PATIENT_LIST, AuditReason.SHARED_SUMMARY}


async def test_staff_outside_the_care_relation_get_not_found_and_the_read_is_audited(
        db: Database, seeded: Seeded, clock: FixedClock, service: AccessReportService) -> None:
    nurse_luroy, nurse_rodoy = await _staff(db, "sykepleier.luroy"), await _staff(db, "sykepleier.rodoy")
    leader = await _staff(db, "leder")
    async with db.session() as session:
        with pytest.raises(NotFound):  # Marit lives in Rødøy: Lurøy has no care relation to her
            await service.for_staff(session, nurse_luroy, seeded.patients["Marit"], service.period(), reason="x")
        with pytest.raises(NotFound):  # a team leader is not in a clinical role
            await service.for_staff(session, leader, seeded.patients["Marit"], service.period(), reason="x")
        with pytest.raises(NotFound):
            await service.for_staff(session, nurse_rodoy, "no-such-patient", service.period(), reason="x")
    async with db.session() as session:
        await service.for_staff(session, nurse_rodoy, seeded.patients["Marit"], service.period(),
                                reason=AuditReason.PATIENT_ACCESS_REQUEST, action="print")
    async with db.session() as session:
        rows = (await session.execute(select(AuditEntry).where(AuditEntry.object_type == "access_log"))).scalars().all()
    assert [(r.actor_name, r.action, r.reason) for r in rows] == [
        ("Kari Nilsen", "print", "access request from the patient")]


async def test_only_the_patient_guest_reads_their_report(
        db: Database, seeded: Seeded, clock: FixedClock, service: AccessReportService) -> None:
    marit = await _patient_id(db, "Marit")
    async with db.session() as session:
        for actor in (_guest("relative", "Kari Nordmann"), _guest("interpreter", "Ali Tolk"),
                      await _staff(db, "lege")):
            with pytest.raises(NotFound):
                await service.for_patient(session, actor, marit, service.period())
    async with db.session() as session:
        report = await service.for_patient(session, _guest("patient", "Marit Eriksen"), marit, service.period(1))
    assert report.period.months == 1
    async with db.session() as session:
        row = (await session.execute(select(AuditEntry).where(AuditEntry.object_type == "access_log"))).scalar_one()
    assert (row.actor_kind, row.role, row.patient_id, row.reason) == (
        "guest", "patient", marit, "patient's own access log")


async def test_the_period_bounds_the_report(db: Database, seeded: Seeded, clock: FixedClock,
                                            service: AccessReportService) -> None:
    audit = AuditLog(clock)
    doctor = await _staff(db, "lege")
    marit = await _patient_id(db, "Marit")
    async with db.session() as session:
        await audit.record(session, doctor, action="read", object_type="patient", object_id="p",
                           patient_id=marit, reason="Gammel grunn")
    clock.advance(timedelta(days=45))
    async with db.session() as session:
        recent = await service.for_patient(session, _guest("patient", "Marit Eriksen"), marit, service.period(1))
        year = await service.for_patient(session, _guest("patient", "Marit Eriksen"), marit, service.period(12))
    assert "Gammel grunn" not in {g.stated_reason for g in recent.groups}
    assert "Gammel grunn" in {g.stated_reason for g in year.groups}
