"""Six months of past joint consultations for the demo, so the benefits report shows something true on
the first start.

Synthetic and deterministic: a ``random.Random`` with a fixed seed draws every choice, and every date is
counted back from the clock at first start, ending the day before it (Oslo dates). The same clock gives
the same history (only the unguessable public ids differ, as they must). Nothing here touches what the
rest of the demo shows as current: every consultation is over, every referral is booked or closed (none
waits in the queue), and the patients are a dozen synthetic ones of their own, so the demo's Astrid,
Johan and Marit keep exactly their own bookings.

What it holds, as a pilot in two island municipalities would: referrals with their urgency and realistic
response times (some past their target), joint consultations in the health room, short follow-ups with
the patient at home and advance care planning conversations; most held, with what followed recorded,
some cancelled and a few where the patient did not come; some patients who would have needed an escort
or whose nurse would have travelled along. The municipalities' usual trip to the hospital is added
where it is missing (the demo normally sets it already).

Rows are written with a few multi-row inserts, not one by one: this runs on every start of a test server.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.availability import NorwegianHolidays
from scheduling.models import (
    AdmissionAvoided,
    Booking,
    BookingStatus,
    ConsultationOutcome,
    ConsultationType,
    FollowUp,
    Referral,
    ReferralStatus,
    RequirementKind,
    Reservation,
    Resource,
    ResourceKind,
    Urgency,
)
from scheduling.outcomes import encode_follow_up
from scheduling.services.notifications import NotificationSettings, booking_uid
from server.people.models import MunicipalityTravel, Organisation, Patient, PatientOrganisation, User
from server.people.national_id import first_synthetic_id
from server.people.travel import Transport
from server.platform.clock import Clock
from server.platform.local_time import OSLO
from server.platform.model_base import Base
from server.platform.roles import OrganisationKind, Role

log = logging.getLogger(__name__)

SEED = 20260601
"""The seed of the one random stream: change it and the whole history changes, keep it and it does not."""
MONTHS = 6
DAYS = 183
"""How far back the history reaches: six months of days before the first start."""

# Start times of the day's consultations, far enough apart that the longest kind with its buffers
# (60 + 5 + 10 minutes) never overlaps the next: the demo has one specialist, who takes part in all.
SLOT_TIMES = (time(9, 0), time(10, 30), time(12, 30), time(14, 0))

# One way from the municipality's centre to the hospital, by car and ferry (Helgeland: Fv17 and the
# ferries Jektvik-Kilboghamn and Stokkvågen-Lurøy), used only where the demo has set no travel yet.
TRAVEL_BY_CODE = {
    "1836": (142.0, 205, Transport.CAR, True, 60),   # Rødøy: Tjongsfjorden - Mo i Rana
    "1834": (118.0, 170, Transport.CAR, True, 45),   # Lurøy - Mo i Rana
}

# Synthetic patients: fictional names; their national ids are synthetic (month + 80), as in the demo.
PATIENTS = (
    ("Solveig", "Andreassen", date(1934, 2, 9)), ("Harald", "Kristiansen", date(1939, 7, 23)),
    ("Ragnhild", "Jakobsen", date(1941, 4, 2)), ("Oddvar", "Mikkelsen", date(1936, 10, 17)),
    ("Gunvor", "Strand", date(1944, 12, 5)), ("Einar", "Halvorsen", date(1947, 3, 28)),
    ("Bjørg", "Johnsen", date(1932, 8, 14)), ("Arne", "Sandvik", date(1943, 5, 30)),
    ("Torill", "Nygård", date(1949, 1, 11)), ("Kåre", "Bakken", date(1937, 9, 3)),
    ("Inger", "Lund", date(1940, 6, 19)), ("Reidar", "Moe", date(1946, 11, 26)),
)

REASONS = (
    "Fall i hjemmet, svimmel ved oppreising. Ønsker gjennomgang av medisiner.",
    "Økende tungpust og hevelse i bena; kjent hjertesvikt.",
    "Sår på leggen som ikke gror etter fire uker.",
    "Nedsatt matlyst og vekttap siste måned.",
    "Uro og forvirring om kvelden; spørsmål om delirium.",
    "Oppfølging etter utskrivning: justering av vanndrivende.",
    "Smerter i hoften etter fall, usikker gangfunksjon.",
    "KOLS med flere forverringer i høst.",
)
WHAT_MATTERS = (
    "Å bo hjemme så lenge som mulig.", "Å slippe lange reiser til sykehuset.",
    "Å kunne gå tur til butikken igjen.", "Å være sammen med familien.", "Å sove godt om natta.",
)
CANCEL_REASONS = (
    "Pasienten ble innlagt før konsultasjonen.", "Pasienten var for syk til å delta.",
    "Spesialisten ble syk.", "Pårørende kunne ikke delta; ny tid avtales ved behov.",
)
CLOSE_REASONS = (
    "Avklart på telefon med fastlegen.", "Fastlegen følger opp.", "Pasienten ønsket ikke konsultasjon.",
)

# How the answers are spread (weights): kinds, urgencies, how a booking ended, and what followed.
TYPE_WEIGHTS = {"joint_consultation": 50, "short_follow_up": 35, "advance_care_planning": 15}
URGENCY_WEIGHTS = {Urgency.DAY: 15, Urgency.WEEK: 45, Urgency.FOUR_WEEKS: 40}
END_WEIGHTS = {BookingStatus.COMPLETED: 85, BookingStatus.CANCELLED: 10, BookingStatus.NO_SHOW: 5}
ADMISSION_WEIGHTS = {AdmissionAvoided.YES: 45, AdmissionAvoided.NO: 35, AdmissionAvoided.UNCERTAIN: 20}
FOLLOW_UP_CHANCE = {FollowUp.HOME_CARE: 0.6, FollowUp.GP: 0.45, FollowUp.OUTPATIENT: 0.2, FollowUp.ADMISSION: 0.07}

# Hours from referral to booking (response), and from booking to the consultation, per urgency: most
# within the urgency's target (a day, a week, four weeks), some past it, as in a real queue.
RESPONSE_HOURS = {Urgency.DAY: (1, 20, 26, 40), Urgency.WEEK: (4, 120, 170, 230),
                  Urgency.FOUR_WEEKS: (24, 400, 680, 900)}
LATE_SHARE = {Urgency.DAY: 0.12, Urgency.WEEK: 0.1, Urgency.FOUR_WEEKS: 0.08}
WAIT_HOURS = {Urgency.DAY: (2, 30), Urgency.WEEK: (24, 150), Urgency.FOUR_WEEKS: (72, 500)}


@dataclass(frozen=True)
class HistoryCounts:
    """What was written, for the log and the tests."""

    patients: int = 0
    referrals: int = 0
    bookings: int = 0
    outcomes: int = 0
    travel_rows: int = 0


@dataclass
class _World:
    """What the demo has that the history refers to."""

    hospital: Organisation
    municipalities: list[Organisation]
    specialist: Resource
    specialist_user: User
    coordinator_user: User | None
    nurses: dict[int, tuple[Resource, User]]  # municipality id -> the nurse's resource and user
    rooms: dict[int, Resource]  # municipality id -> health room
    types: dict[str, ConsultationType]
    travel_hours: dict[int, float] = field(default_factory=dict)  # municipality id -> round trip, hours


async def seed_history(session: AsyncSession, clock: Clock, *, hospital: str,
                       public_url: str = "http://127.0.0.1:8080", seed: int = SEED) -> HistoryCounts:
    """Add six months of past consultations (see the module docstring) in the caller's unit of work.

    Expects the demo's organisations, staff, health rooms and consultation types; quietly adds nothing
    when they are missing."""
    world = await _world(session, hospital)
    if world is None:
        log.warning("demo history skipped: the demo's hospital, staff, rooms or kinds of consultation are missing")
        return HistoryCounts()
    now = clock.now()
    travel_rows = await _ensure_travel(session, world)
    rng = random.Random(seed)
    patients = await _patients(session, world, now)
    settings = NotificationSettings(public_url=public_url)
    today = now.astimezone(OSLO).date()
    plan = _plan(rng, world, patients, today=today, busy=await _busy(session, world, today))

    referral_rows = [p.referral for p in plan.items if p.referral is not None] + plan.closed_referrals
    referral_ids: list[int] = []
    if referral_rows:
        referrals = _table(Referral)
        referral_ids = list((await session.execute(
            insert(referrals).returning(referrals.c.id, sort_by_parameter_order=True), referral_rows)).scalars())
    by_position = iter(referral_ids)
    booking_rows = []
    for item in plan.items:
        referral_id = next(by_position) if item.referral is not None else None
        public_id = secrets.token_urlsafe(12)
        booking_rows.append({**item.booking, "referral_id": referral_id, "public_id": public_id,
                             "ical_uid": booking_uid(public_id, settings)})
    bookings = _table(Booking)
    booking_ids = list((await session.execute(
        insert(bookings).returning(bookings.c.id, sort_by_parameter_order=True), booking_rows)).scalars())
    reservations = [{**r, "booking_id": booking_id}
                    for item, booking_id in zip(plan.items, booking_ids, strict=True) for r in item.reservations]
    outcomes = [{**item.outcome, "booking_id": booking_id}
                for item, booking_id in zip(plan.items, booking_ids, strict=True) if item.outcome is not None]
    if reservations:
        await session.execute(insert(_table(Reservation)), reservations)
    if outcomes:
        await session.execute(insert(_table(ConsultationOutcome)), outcomes)
    counts = HistoryCounts(patients=len(patients), referrals=len(referral_rows), bookings=len(booking_rows),
                           outcomes=len(outcomes), travel_rows=travel_rows)
    log.info("demo history loaded: %s", counts)
    return counts


def _table(model: type[Base]) -> Table:
    # Core inserts of many rows: the ORM's per-row bookkeeping would double the time, for nothing here
    table = model.__table__
    assert isinstance(table, Table)
    return table


async def _world(session: AsyncSession, hospital_name: str) -> _World | None:
    orgs = list((await session.execute(select(Organisation).order_by(Organisation.id))).scalars())
    hospital = next((o for o in orgs if o.name == hospital_name), None)
    municipalities = [o for o in orgs if o.kind is OrganisationKind.MUNICIPALITY]
    users = list((await session.execute(select(User).order_by(User.id))).scalars())
    resources = list((await session.execute(select(Resource).order_by(Resource.id))).scalars())
    person = {r.user_id: r for r in resources if r.kind is ResourceKind.PERSON and r.user_id is not None}
    specialist_user = next((u for u in users if u.role is Role.SPECIALIST and u.id in person), None)
    types = {t.code: t for t in (await session.execute(select(ConsultationType))).scalars()}
    if hospital is None or specialist_user is None or not municipalities or set(TYPE_WEIGHTS) - set(types):
        return None
    nurses: dict[int, tuple[Resource, User]] = {}
    for u in users:
        if u.role is Role.NURSE and u.id in person and u.organisation_id not in nurses:
            nurses[u.organisation_id] = (person[u.id], u)
    rooms: dict[int, Resource] = {}
    for r in resources:
        if r.kind is ResourceKind.HEALTH_ROOM and r.municipality_id is not None and r.active:
            rooms.setdefault(r.municipality_id, r)
    served = [m for m in municipalities if m.id in nurses and m.id in rooms]
    if not served:
        return None
    return _World(hospital=hospital, municipalities=served, specialist=person[specialist_user.id],
                  specialist_user=specialist_user,
                  coordinator_user=next((u for u in users if u.role is Role.COORDINATOR), None),
                  nurses=nurses, rooms=rooms, types=types)


async def _ensure_travel(session: AsyncSession, world: _World) -> int:
    """Each municipality's usual trip to the hospital, where the demo has none; returns rows added."""
    existing = {t.municipality_id: t for t in (await session.execute(select(MunicipalityTravel).where(
        MunicipalityTravel.hospital_id == world.hospital.id))).scalars()}
    added = 0
    for m in world.municipalities:
        travel = existing.get(m.id)
        if travel is None and (m.code or "") in TRAVEL_BY_CODE:
            km, minutes, transport, ferry, ferry_minutes = TRAVEL_BY_CODE[m.code or ""]
            travel = MunicipalityTravel(municipality_id=m.id, hospital_id=world.hospital.id, distance_km=km,
                                        travel_minutes=minutes, transport=transport.value, ferry=ferry,
                                        ferry_minutes=ferry_minutes)
            session.add(travel)
            added += 1
        if travel is not None:
            # what the referring nurse writes: there and back, to the half hour
            world.travel_hours[m.id] = round(travel.travel_minutes * 2 / 30) / 2
    if added:
        await session.flush()
    return added


async def _patients(session: AsyncSession, world: _World, now: datetime) -> list[Patient]:
    """The synthetic patients, spread over the municipalities, each cared for there and at the hospital."""
    created = now - timedelta(days=DAYS + 60)
    patients = []
    for i, (given, family, born) in enumerate(PATIENTS):
        municipality = world.municipalities[i % len(world.municipalities)]
        patients.append(Patient(
            public_id=secrets.token_urlsafe(12), given_name=given, family_name=family, birth_date=born,
            # individual numbers from 300 on: clear of the demo's own patients and the test volumes
            national_id=first_synthetic_id(born, start=300 + 7 * i), home_municipality_id=municipality.id,
            address=municipality.name, phone="", email="", preferred_language="nb", interpreter_needed=False,
            created_at=created))
    session.add_all(patients)
    await session.flush()
    await session.execute(insert(_table(PatientOrganisation)), [
        {"patient_id": p.id, "organisation_id": org_id, "since": created}
        for p in patients for org_id in (p.home_municipality_id, world.hospital.id)])
    return patients


async def _busy(session: AsyncSession, world: _World, today: date) -> list[tuple[datetime, datetime]]:
    """What the demo's people and rooms already hold in the history's months (none, on a first start
    at the usual hour; a consultation booked to start minutes after a first start just after midnight
    would be one): the history leaves those times alone."""
    ids = {world.specialist.id, *(r.id for r, _ in world.nurses.values()), *(r.id for r in world.rooms.values())}
    start = _at(today - timedelta(days=DAYS + 1), time(0))
    rows = (await session.execute(select(Reservation.blocked_start, Reservation.blocked_end).where(
        Reservation.resource_id.in_(ids), Reservation.active.is_(True), Reservation.blocked_end > start,
        Reservation.blocked_start < _at(today, time(0))))).all()
    return [(a, b) for a, b in rows]


@dataclass
class _Item:
    """One past consultation: its referral (None for a follow-up booked without one), the booking's
    columns, its reservations and, when held, what followed."""

    referral: dict[str, Any] | None
    booking: dict[str, Any]
    reservations: list[dict[str, Any]]
    outcome: dict[str, Any] | None


@dataclass
class _Plan:
    items: list[_Item]
    closed_referrals: list[dict[str, Any]]


def _working_days(today: date) -> list[date]:
    holidays = NorwegianHolidays()
    days = [today - timedelta(days=n) for n in range(DAYS, 0, -1)]
    return [d for d in days if d.weekday() < 5 and not holidays.is_holiday(d)]


def _at(day: date, at: time) -> datetime:
    # local wall time to an aware datetime: correct on both sides of a DST change
    return datetime.combine(day, at, tzinfo=OSLO)


def _office_time(rng: random.Random, moment: datetime) -> datetime:
    """The same local day at a random office hour (people respond at work, not at night)."""
    local = moment.astimezone(OSLO)
    return _at(local.date(), time(rng.randint(8, 15), rng.choice((0, 10, 20, 30, 40, 50))))


def _hours(rng: random.Random, urgency: Urgency) -> float:
    lo, hi, late_lo, late_hi = RESPONSE_HOURS[urgency]
    if rng.random() < LATE_SHARE[urgency]:
        return rng.uniform(late_lo, late_hi)
    return rng.uniform(lo, hi)


def _plan(rng: random.Random, world: _World, patients: Sequence[Patient], *, today: date,
          busy: Sequence[tuple[datetime, datetime]] = ()) -> _Plan:
    """Every row of the history, drawn in one fixed order from ``rng``; no consultation where ``busy``
    already holds the time."""
    items: list[_Item] = []
    days = _working_days(today)
    for index, day in enumerate(days):
        # the pilot grows: about one consultation a day at first, nearly two by the end
        growth = index / max(len(days) - 1, 1)
        count = rng.choices((0, 1, 2, 3), weights=(30 - 15 * growth, 45, 20 + 10 * growth, 5 + 10 * growth))[0]
        for at in sorted(rng.sample(SLOT_TIMES, count)):
            start = _at(day, at)
            # the longest kind with its buffers fits in [start - 5 min, start + 75 min)
            lo, hi = start - timedelta(minutes=5), start + timedelta(minutes=75)
            if any(a < hi and lo < b for a, b in busy):
                continue
            items.append(_item(rng, world, rng.choice(patients), start))
    closed = []
    for _ in range(max(len(items) // 20, 1)):
        # a few referrals settled without a consultation (the GP took it over, a phone call was enough)
        patient = rng.choice(patients)
        created = _office_time(rng, _at(rng.choice(days), time(12)))
        nurse_user = world.nurses[patient.home_municipality_id][1]
        closed.append(_referral(rng, world, patient, nurse_user, rng.choices(
            list(URGENCY_WEIGHTS), weights=list(URGENCY_WEIGHTS.values()))[0], created,
            created + timedelta(hours=rng.uniform(2, 48)), None, ReferralStatus.CLOSED,
            rng.choice(CLOSE_REASONS)))
    return _Plan(items, closed)


def _item(rng: random.Random, world: _World, patient: Patient, start: datetime) -> _Item:
    ctype = world.types[rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]]
    urgency = rng.choices(list(URGENCY_WEIGHTS), weights=list(URGENCY_WEIGHTS.values()))[0]
    ending = rng.choices(list(END_WEIGHTS), weights=list(END_WEIGHTS.values()))[0]
    at_home = any(r.kind is RequirementKind.PATIENT_HOME for r in ctype.requirements)
    end = start + timedelta(minutes=ctype.duration_minutes)
    wait_lo, wait_hi = WAIT_HOURS[urgency]
    # the booking is made in office hours, at least two hours before the consultation
    booked_at = min(_office_time(rng, start - timedelta(hours=rng.uniform(wait_lo, wait_hi))),
                    start - timedelta(hours=2))
    created_by = world.coordinator_user.id if world.coordinator_user else None
    nurse_resource, nurse_user = world.nurses[patient.home_municipality_id]

    referral: dict[str, Any] | None = None
    # a short follow-up at home is now and then booked straight after a joint consultation, without a referral
    if not (at_home and rng.random() < 0.3):
        received = booked_at - timedelta(hours=_hours(rng, urgency))
        status = ReferralStatus.CLOSED if ending is BookingStatus.CANCELLED else ReferralStatus.BOOKED
        referral = _referral(rng, world, patient, nurse_user, urgency, received, booked_at, ctype, status,
                             rng.choice(CANCEL_REASONS) if status is ReferralStatus.CLOSED else "")

    cancelled = ending is BookingStatus.CANCELLED
    updated = (booked_at + (start - booked_at) * rng.uniform(0.3, 0.95)) if cancelled else end
    booking = {
        "patient_id": patient.id, "consultation_type_id": ctype.id, "start": start, "end": end, "status": ending,
        "cancel_reason": referral["closed_reason"] if cancelled and referral else (
            rng.choice(CANCEL_REASONS) if cancelled else ""),
        "sequence": 1 if cancelled else 0, "patient_at_home": at_home, "created_by_user_id": created_by,
        "created_at": booked_at, "updated_at": updated,
        "reminder_queued_at": None if cancelled else max(booked_at, start - timedelta(days=1)),
    }
    blocked_start = start - timedelta(minutes=ctype.buffer_before_minutes)
    blocked_end = end + timedelta(minutes=ctype.buffer_after_minutes)
    holders: list[tuple[str, Resource]] = []
    for requirement in ctype.requirements:
        if requirement.kind is RequirementKind.DEPARTMENT_SPECIALIST:
            holders.append((requirement.key, world.specialist))
        elif requirement.kind is RequirementKind.MUNICIPALITY_NURSE:
            holders.append((requirement.key, nurse_resource))
        elif requirement.kind is RequirementKind.HEALTH_ROOM:
            holders.append((requirement.key, world.rooms[patient.home_municipality_id]))
    reservations = [{"resource_id": resource.id, "requirement_key": key, "position": i,
                     "blocked_start": blocked_start, "blocked_end": blocked_end, "active": not cancelled}
                    for i, (key, resource) in enumerate(holders)]

    outcome = None
    if ending is BookingStatus.COMPLETED:
        follow_up = {f for f, chance in FOLLOW_UP_CHANCE.items() if rng.random() < chance}
        admission = rng.choices(list(ADMISSION_WEIGHTS), weights=list(ADMISSION_WEIGHTS.values()))[0]
        if FollowUp.ADMISSION in follow_up and admission is AdmissionAvoided.YES:
            admission = AdmissionAvoided.NO  # admitted after all: not spared an admission
        recorder = world.specialist_user.id if rng.random() < 0.7 else nurse_user.id
        outcome = {"admission_avoided": admission, "follow_up": encode_follow_up(follow_up),
                   "recorded_by_user_id": recorder, "recorded_at": end + timedelta(minutes=rng.randint(2, 90))}
    return _Item(referral, booking, reservations, outcome)


def _referral(rng: random.Random, world: _World, patient: Patient, nurse_user: User, urgency: Urgency,
              received: datetime, responded: datetime, ctype: ConsultationType | None, status: ReferralStatus,
              closed_reason: str) -> dict[str, Any]:
    # escorts are common for the frailest; the nurse goes along mostly for the health-room kinds
    in_room = ctype is not None and any(r.kind is RequirementKind.HEALTH_ROOM for r in ctype.requirements)
    return {
        "public_id": secrets.token_urlsafe(12), "patient_id": patient.id, "reason": rng.choice(REASONS),
        "urgency": urgency, "what_matters": rng.choice(WHAT_MATTERS), "wished_participants": "",
        "consultation_type_id": ctype.id if ctype is not None else None, "referred_by_user_id": nurse_user.id,
        "referring_organisation_id": nurse_user.organisation_id, "otherwise_hospital": world.hospital.name,
        "travel_hours": world.travel_hours.get(patient.home_municipality_id),
        "escort_needed": rng.random() < 0.35, "nurse_would_travel": in_room and rng.random() < 0.2,
        "status": status, "created_at": received, "responded_at": responded, "closed_reason": closed_reason,
    }
