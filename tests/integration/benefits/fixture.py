"""A small world for the benefits report whose every figure the tests work out by hand.

Two hospitals, two municipalities with travel rows, one department, one specialist, a health room in
Øyvær, nurses in Øyvær and Lurfjord, two consultation types, and consultations in March and April 2026
(Europe/Oslo; summer time starts on 29 March). Everything is placed directly as rows: the point is the
arithmetic of the report, not the booking rules.

Øyvær (A): the health room R_A, the nurse N_A and the specialist S; patient in the room.
Lurfjord (B): the nurse N_B and the specialist S; patient at home.

Travel, one way: Øyvær -> Nordvik 80 km / 150 min (ferry), Øyvær -> Sørhavn 200 km / 300 min,
Lurfjord -> Nordvik 60 km / 90 min; no row for Lurfjord -> Sørhavn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from scheduling.models import (
    AdmissionAvoided,
    Booking,
    BookingStatus,
    ConsultationOutcome,
    ConsultationType,
    Referral,
    ReferralStatus,
    RequirementKind,
    Reservation,
    Resource,
    ResourceKind,
    TypeRequirement,
    Urgency,
)
from server.people.models import Department, MunicipalityTravel, Organisation, Patient
from server.people.national_id import first_synthetic_id
from server.platform.actors import Actor
from server.platform.db import Database
from server.platform.local_time import OSLO
from server.platform.roles import OrganisationKind, Role

NOW = datetime(2026, 5, 10, 8, 0, tzinfo=UTC)


def oslo(month: int, day: int, hh: int, mm: int = 0) -> datetime:
    """A Europe/Oslo wall time in 2026 as an aware UTC datetime."""
    return datetime.combine(date(2026, month, day), time(hh, mm), tzinfo=OSLO).astimezone(UTC)


@dataclass(frozen=True)
class BenefitsWorld:
    hospital_nordvik: int
    hospital_sorhavn: int
    oyvaer: int
    lurfjord: int
    department: int
    type_room: int
    type_home: int
    leader: Actor
    admin: Actor
    nurse: Actor


@dataclass(frozen=True)
class _B:
    """One consultation of the fixture."""

    key: str
    municipality: str  # "A" or "B"
    start: datetime
    status: BookingStatus = BookingStatus.COMPLETED
    home_type: bool = False
    booked: datetime | None = None  # the booking's creation, for response times
    referral: tuple[Urgency, datetime] | None = None  # urgency, received
    escort: bool = False
    nurse: bool = False
    otherwise: str = ""
    travel_hours: float | None = None
    outcome: tuple[AdmissionAvoided, str] | None = None


W = Urgency.WEEK
YES, NO, UNSURE = AdmissionAvoided.YES, AdmissionAvoided.NO, AdmissionAvoided.UNCERTAIN
C, X, N, U = BookingStatus.COMPLETED, BookingStatus.CANCELLED, BookingStatus.NO_SHOW, BookingStatus.BOOKED

CONSULTATIONS = [
    _B("a1", "A", oslo(3, 5, 10), booked=oslo(3, 3, 8), referral=(W, oslo(3, 2, 8)), escort=True,
       outcome=(YES, "home_care,gp")),
    _B("a2", "A", oslo(3, 9, 10), booked=oslo(3, 2, 20), referral=(W, oslo(3, 2, 14)), escort=True,
       outcome=(YES, "gp")),
    _B("a3", "A", oslo(3, 12, 10), booked=oslo(3, 6, 12), referral=(W, oslo(3, 5, 12)), nurse=True,
       outcome=(NO, "admission")),
    _B("a4", "A", oslo(3, 6, 10), booked=oslo(3, 5, 8), referral=(W, oslo(3, 4, 8)), escort=True, nurse=True,
       outcome=(UNSURE, "outpatient")),
    _B("a5", "A", oslo(3, 20, 10), booked=oslo(3, 14, 12), referral=(W, oslo(3, 14, 8)),
       otherwise=" kystsykehuset  SØRHAVN ", outcome=(YES, "home_care")),
    _B("a6", "A", oslo(3, 16, 10), booked=oslo(3, 1, 9), referral=(W, oslo(3, 1, 8)),
       outcome=(YES, "home_care,outpatient")),
    _B("a7", "A", oslo(3, 17, 10), outcome=(YES, "home_care")),
    _B("a8", "A", oslo(3, 18, 10), outcome=(YES, "home_care")),
    _B("a9", "A", oslo(3, 19, 10), status=X, outcome=(YES, "gp")),  # an outcome on a cancelled one: ignored
    _B("a10", "A", oslo(3, 23, 10), status=N),
    _B("a11", "A", oslo(4, 1, 0, 30), status=U),  # 2026-03-31 22:30 UTC: April in Norway
    _B("a12", "A", oslo(3, 31, 23, 30)),  # summer time: 21:30 UTC, still March
    _B("in1", "A", oslo(3, 1, 0, 15)),  # 2026-02-28 23:15 UTC: the first day of the period in Norway
    _B("out1", "A", oslo(2, 28, 23, 30)),  # the day before the period
    _B("out2", "A", oslo(5, 1, 0, 30)),  # 2026-04-30 22:30 UTC: the day after the period
    _B("b1", "B", oslo(3, 10, 10), home_type=True, booked=oslo(3, 9, 9), referral=(Urgency.DAY, oslo(3, 9, 8)),
       nurse=True),
    _B("b2", "B", oslo(3, 11, 10), home_type=True),
    _B("b3", "B", oslo(3, 12, 13), home_type=True),
    _B("b4", "B", oslo(3, 13, 10)),
    _B("b5", "B", oslo(3, 25, 10), booked=oslo(3, 2, 9), referral=(Urgency.FOUR_WEEKS, oslo(3, 1, 9)),
       otherwise="Kystsykehuset Sørhavn", travel_hours=5.0),
    _B("b6", "B", oslo(3, 26, 10), status=X),
]
"""The period of the tests is 2026-03-01 .. 2026-04-30."""


async def build(db: Database) -> BenefitsWorld:
    async with db.session() as s:
        nordvik = Organisation(name="Fjordsykehuset Nordvik", kind=OrganisationKind.HOSPITAL)
        sorhavn = Organisation(name="Kystsykehuset Sørhavn", kind=OrganisationKind.HOSPITAL)
        oyvaer = Organisation(name="Øyvær kommune", kind=OrganisationKind.MUNICIPALITY)
        lurfjord = Organisation(name="Lurfjord kommune", kind=OrganisationKind.MUNICIPALITY)
        s.add_all([nordvik, sorhavn, oyvaer, lurfjord])
        await s.flush()
        dept = Department(organisation_id=nordvik.id, name="Geriatri")
        s.add(dept)
        s.add_all([
            MunicipalityTravel(municipality_id=oyvaer.id, hospital_id=nordvik.id, distance_km=80.0, travel_minutes=150,
                               transport="car", ferry=True, ferry_minutes=40),
            MunicipalityTravel(municipality_id=oyvaer.id, hospital_id=sorhavn.id, distance_km=200.0, travel_minutes=300,
                               transport="car", ferry=True, ferry_minutes=60),
            MunicipalityTravel(municipality_id=lurfjord.id, hospital_id=nordvik.id, distance_km=60.0, travel_minutes=90,
                               transport="car", ferry=False, ferry_minutes=None),
        ])
        await s.flush()
        specialist = Resource(kind=ResourceKind.PERSON, name="S", organisation_id=nordvik.id, department_id=dept.id,
                              created_at=NOW)
        nurse_a = Resource(kind=ResourceKind.PERSON, name="N_A", organisation_id=oyvaer.id, created_at=NOW)
        nurse_b = Resource(kind=ResourceKind.PERSON, name="N_B", organisation_id=lurfjord.id, created_at=NOW)
        room_a = Resource(kind=ResourceKind.HEALTH_ROOM, name="R_A", organisation_id=oyvaer.id,
                          municipality_id=oyvaer.id, created_at=NOW)
        s.add_all([specialist, nurse_a, nurse_b, room_a])
        t_room = ConsultationType(code="room", name="Samkonsultasjon i helserom", name_en="Joint consultation",
                                  duration_minutes=30, requirements=[TypeRequirement(
                                      position=0, key="specialist", kind=RequirementKind.DEPARTMENT_SPECIALIST,
                                      department_id=dept.id)])
        t_home = ConsultationType(code="home", name="Samkonsultasjon hjemme", name_en="", duration_minutes=30)
        s.add_all([t_room, t_home])
        await s.flush()
        patients = {}
        for n, (home, key) in enumerate([(oyvaer, "A"), (lurfjord, "B")]):
            birth = date(1935, 1, 1 + n)
            patient = Patient(public_id=f"benefit-patient-{key}", given_name="Kari", family_name=f"Nordmann{key}",
                              birth_date=birth, national_id=first_synthetic_id(birth), home_municipality_id=home.id,
                              created_at=NOW)
            s.add(patient)
            patients[key] = patient
        await s.flush()
        for c in CONSULTATIONS:
            patient = patients[c.municipality]
            referral_id = None
            if c.referral is not None:
                urgency, received = c.referral
                referral = Referral(
                    public_id=f"ref-{c.key}", patient_id=patient.id, reason="Oppfølging", urgency=urgency,
                    referring_organisation_id=oyvaer.id if c.municipality == "A" else lurfjord.id,
                    otherwise_hospital=c.otherwise, travel_hours=c.travel_hours, escort_needed=c.escort,
                    nurse_would_travel=c.nurse, status=ReferralStatus.BOOKED, created_at=received)
                s.add(referral)
                await s.flush()
                referral_id = referral.id
            people = [(specialist, "specialist")]
            people += [(nurse_a, "nurse"), (room_a, "room")] if c.municipality == "A" else [(nurse_b, "nurse")]
            created = c.booked or oslo(2, 1, 8)
            booking = Booking(
                public_id=f"bk-{c.key}", referral_id=referral_id, patient_id=patient.id,
                consultation_type_id=t_home.id if c.home_type else t_room.id, start=c.start,
                end=c.start + timedelta(minutes=30),
                status=c.status, ical_uid=f"{c.key}@benefits", patient_at_home=c.municipality == "B",
                created_at=created, updated_at=created,
                reservations=[Reservation(resource_id=r.id, requirement_key=key, position=i, blocked_start=c.start,
                                          blocked_end=c.start + timedelta(minutes=30), active=c.status is not X)
                              for i, (r, key) in enumerate(people)])
            s.add(booking)
            await s.flush()
            if c.outcome is not None:
                s.add(ConsultationOutcome(booking_id=booking.id, admission_avoided=c.outcome[0],
                                          follow_up=c.outcome[1], recorded_at=c.start))
        await s.flush()

        def actor(role: Role, org: Organisation) -> Actor:
            return Actor(kind="staff", id=f"test-{role.value}", name=f"Test {role.value}", role=role.value,
                         organisation_id=org.id, organisation_name=org.name)

        return BenefitsWorld(
            hospital_nordvik=nordvik.id, hospital_sorhavn=sorhavn.id, oyvaer=oyvaer.id, lurfjord=lurfjord.id,
            department=dept.id,
            type_room=t_room.id, type_home=t_home.id, leader=actor(Role.TEAM_LEADER, nordvik),
            admin=actor(Role.ADMIN, nordvik), nurse=actor(Role.NURSE, oyvaer))
