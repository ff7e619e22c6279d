"""A real week's volume on top of the demo data: more patients, a full week of bookings, a long queue.

Used by ``bench/pages.py`` and by the tests that check the list pages at that volume. Rows are placed
directly (as the demo data places its bookings), not through the slot finder: the point is the
number of rows the pages read, not the booking rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from scheduling.models import (
    Booking,
    BookingStatus,
    ConsultationType,
    Referral,
    ReferralStatus,
    Reservation,
    Resource,
    Urgency,
)
from scheduling.services.common import new_public_id
from server.people.models import Organisation, Patient, PatientOrganisation, User
from server.people.national_id import first_synthetic_id
from server.platform.clock import Clock
from server.platform.db import Database
from server.platform.local_time import OSLO
from server.platform.roles import OrganisationKind

WEEK = date(2026, 11, 30)
"""A Monday, the week after the demo data's "now" (the test clock's 2026-11-23)."""


@dataclass(frozen=True)
class Volume:
    """What was added: the patients' public ids and the bookings' public ids in start order."""

    patients: list[str]
    bookings: list[str]
    referrals: list[str]


async def add_volume(db: Database, clock: Clock, *, bookings: int, referrals: int = 0, patients: int = 100,
                     username: str = "lege", week: date = WEEK) -> Volume:
    """``bookings`` bookings of ``username`` over the working days of ``week`` (07:00-17:00), one
    patient after another, and ``referrals`` open referrals; the patients are related to the first
    hospital and the first municipality of the demo data."""
    async with db.session() as session:
        orgs = (await session.execute(select(Organisation).order_by(Organisation.id))).scalars().all()
        hospital = next(o for o in orgs if o.kind == OrganisationKind.HOSPITAL)
        municipality = next(o for o in orgs if o.kind == OrganisationKind.MUNICIPALITY)
        user = (await session.execute(select(User).where(User.username == username))).scalar_one()
        resource = (await session.execute(select(Resource).where(Resource.user_id == user.id))).scalar_one()
        ctype = (await session.execute(select(ConsultationType).order_by(ConsultationType.id))).scalars().first()
        assert ctype is not None
        now = clock.now()
        added = []
        for n in range(patients):
            birth = date(1930, 1, 1) + timedelta(days=97 * n)
            patient = Patient(public_id=new_public_id(), given_name=f"Pasient{n}", family_name="Volum",
                              birth_date=birth, national_id=first_synthetic_id(birth), address="",
                              home_municipality_id=municipality.id, phone="", email="",
                              preferred_language="nb", interpreter_needed=False, created_at=now)
            session.add(patient)
            added.append(patient)
        await session.flush()
        for patient in added:
            for org in (hospital, municipality):
                session.add(PatientOrganisation(patient_id=patient.id, organisation_id=org.id, since=now))
        per_day = -(-bookings // 5)
        step = timedelta(minutes=10 * 60 // max(per_day, 1))
        booking_ids = []
        for i in range(bookings):
            day = week + timedelta(days=i // per_day)
            start = datetime.combine(day, time(7), tzinfo=OSLO) + step * (i % per_day)
            end = start + min(step, timedelta(minutes=ctype.duration_minutes))
            public_id = new_public_id()
            booking_ids.append(public_id)
            session.add(Booking(
                public_id=public_id, referral_id=None, patient_id=added[i % patients].id,
                consultation_type_id=ctype.id, start=start, end=end, status=BookingStatus.BOOKED,
                cancel_reason="", sequence=0, ical_uid=f"{public_id}@volume", patient_at_home=False,
                created_by_user_id=None, created_at=now, updated_at=now, reminder_queued_at=None,
                reservations=[Reservation(resource_id=resource.id, requirement_key="specialist", position=0,
                                          blocked_start=start, blocked_end=end, active=True)]))
        referral_ids = []
        for i in range(referrals):
            public_id = new_public_id()
            referral_ids.append(public_id)
            session.add(Referral(
                public_id=public_id, patient_id=added[i % patients].id, reason="Oppfølging",
                urgency=Urgency.WEEK, what_matters="", wished_participants="", consultation_type_id=ctype.id,
                referred_by_user_id=user.id, referring_organisation_id=hospital.id,
                otherwise_hospital="", travel_hours=None, status=ReferralStatus.OPEN,
                created_at=now - timedelta(minutes=i), responded_at=None, closed_reason=""))
    return Volume([p.public_id for p in added], booking_ids, referral_ids)


async def add_booking(db: Database, clock: Clock, start: datetime, end: datetime, *, username: str = "lege",
                      patient_public_id: str | None = None) -> str:
    """One booking of ``username`` at ``start``-``end`` (aware), of the first demo patient unless named."""
    async with db.session() as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one()
        resource = (await session.execute(select(Resource).where(Resource.user_id == user.id))).scalar_one()
        ctype = (await session.execute(select(ConsultationType).order_by(ConsultationType.id))).scalars().first()
        query = select(Patient).order_by(Patient.id)
        if patient_public_id is not None:
            query = query.where(Patient.public_id == patient_public_id)
        patient = (await session.execute(query)).scalars().first()
        assert ctype is not None and patient is not None
        now = clock.now()
        public_id = new_public_id()
        session.add(Booking(
            public_id=public_id, referral_id=None, patient_id=patient.id, consultation_type_id=ctype.id,
            start=start, end=end, status=BookingStatus.BOOKED, cancel_reason="", sequence=0,
            ical_uid=f"{public_id}@volume", patient_at_home=False, created_by_user_id=None, created_at=now,
            updated_at=now, reminder_queued_at=None,
            reservations=[Reservation(resource_id=resource.id, requirement_key="specialist", position=0,
                                      blocked_start=start, blocked_end=end, active=True)]))
    return public_id
