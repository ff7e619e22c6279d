"""Scheduling demo data: calendars for the demo staff, two health rooms, three consultation types,
open referrals and two booked joint consultations: one that starts a few minutes after seeding (its
room is already open, so the call can be tried right after the first ``make run``) and one on the next
working day.

Called at the end of ``server.demo.seed_demo`` with the same unit of work; expects its users,
organisations and patients to exist (and quietly skips what is missing).
"""

from __future__ import annotations

import logging
from datetime import time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.intervals import Interval
from scheduling.models import (
    Booking,
    BookingStatus,
    ConsultationType,
    Equipment,
    Referral,
    ReferralStatus,
    RequirementKind,
    Reservation,
    Resource,
    ResourceKind,
    RoomEquipment,
    TypeRequirement,
    Urgency,
    WeeklyHoursRow,
)
from scheduling.services.common import new_public_id
from scheduling.services.notifications import NotificationSettings, booking_uid
from scheduling.services.slots import SlotService
from scheduling.slot_search import find_slots
from server.people.models import Department, Organisation, Patient, User
from server.platform.actors import SYSTEM, Actor
from server.platform.audit import AuditLog
from server.platform.clock import Clock

log = logging.getLogger(__name__)

EQUIPMENT = (
    ("room_camera", "Romkamera"),
    ("examination_camera", "Undersøkelseskamera"),
    ("blood_pressure_monitor", "Blodtrykksmåler"),
    ("pulse_oximeter", "Pulsoksymeter"),
    ("thermometer", "Termometer"),
    ("scale", "Vekt"),
)
ROOMS = (
    ("Helserom Rødøy", "Rødøy kommune", "Rødøy helsesenter, 8193 Rødøy", 66.6531, 13.0714,
     "helserom.rodoy@example.no"),
    ("Helserom Lurøy", "Lurøy kommune", "Lurøy helsesenter, 8766 Lurøy", 66.4153, 12.8522,
     "helserom.luroy@example.no"),
)
STAFF = ("lege", "sykepleier.rodoy", "sykepleier.luroy")
WORKDAY = (time(8, 0), time(15, 30))
JOINT = "joint_consultation"
SOON = timedelta(minutes=10)
"""How long after seeding the demo's try-it-now consultation starts: its room opens 15 minutes before."""


async def seed_scheduling(session: AsyncSession, clock: Clock, audit: AuditLog, *, hospital: str,
                          public_url: str = "http://127.0.0.1:8080", actor: Actor = SYSTEM) -> None:
    """Add the scheduling demo data (see the module docstring); ``audit`` is the server's keyed log."""
    now = clock.now()
    orgs = {o.name: o for o in (await session.execute(select(Organisation))).scalars()}
    users = {u.username: u for u in (await session.execute(select(User))).scalars()}
    departments = {d.name: d.id for d in (await session.execute(select(Department))).scalars()}
    geriatri = departments.get("Geriatri")

    equipment = [Equipment(code=code, name=name) for code, name in EQUIPMENT]
    session.add_all(equipment)
    resources: list[Resource] = []
    for username in STAFF:
        user = users.get(username)
        if user is None:
            continue
        resources.append(Resource(
            kind=ResourceKind.PERSON, name=user.display_name, organisation_id=user.organisation_id, user_id=user.id,
            department_id=user.department_id, profession=user.profession, email="", created_at=now))
    for name, municipality, address, lat, lon, email in ROOMS:
        if municipality not in orgs:
            continue
        resources.append(Resource(
            kind=ResourceKind.HEALTH_ROOM, name=name, organisation_id=orgs[municipality].id, address=address,
            latitude=lat, longitude=lon, municipality_id=orgs[municipality].id, email=email, created_at=now))
    session.add_all(resources)
    await session.flush()
    for resource in resources:
        for weekday in range(5):
            session.add(WeeklyHoursRow(resource_id=resource.id, weekday=weekday, start_time=WORKDAY[0],
                                       end_time=WORKDAY[1]))
        if resource.kind is ResourceKind.HEALTH_ROOM:
            for e in equipment:
                session.add(RoomEquipment(resource_id=resource.id, equipment_id=e.id))

    room_kit = "room_camera,examination_camera"
    types = [
        ConsultationType(
            code="short_follow_up", name="Kort oppfølging", name_en="Short follow-up", duration_minutes=15,
            buffer_before_minutes=0, buffer_after_minutes=5, min_notice_minutes=60, active=True,
            requirements=[
                TypeRequirement(position=0, key="specialist", kind=RequirementKind.DEPARTMENT_SPECIALIST,
                                department_id=geriatri),
                TypeRequirement(position=1, key="patient", kind=RequirementKind.PATIENT_HOME),
            ]),
        ConsultationType(
            code=JOINT, name="Samkonsultasjon", name_en="Joint consultation", duration_minutes=30,
            buffer_before_minutes=5, buffer_after_minutes=5, min_notice_minutes=120, active=True,
            requirements=[
                TypeRequirement(position=0, key="specialist", kind=RequirementKind.DEPARTMENT_SPECIALIST,
                                department_id=geriatri),
                TypeRequirement(position=1, key="nurse", kind=RequirementKind.MUNICIPALITY_NURSE),
                TypeRequirement(position=2, key="room", kind=RequirementKind.HEALTH_ROOM, equipment_codes=room_kit),
            ]),
        ConsultationType(
            code="advance_care_planning", name="Forhåndssamtale", name_en="Advance care planning conversation",
            duration_minutes=60, buffer_before_minutes=5, buffer_after_minutes=10, min_notice_minutes=24 * 60,
            active=True,
            requirements=[
                TypeRequirement(position=0, key="specialist", kind=RequirementKind.DEPARTMENT_SPECIALIST,
                                department_id=geriatri),
                TypeRequirement(position=1, key="nurse", kind=RequirementKind.MUNICIPALITY_NURSE),
                TypeRequirement(position=2, key="room", kind=RequirementKind.HEALTH_ROOM, equipment_codes=room_kit),
            ]),
    ]
    if geriatri is None:
        log.warning("no Geriatri department: scheduling demo types skipped")
        await session.flush()
        return
    session.add_all(types)
    await session.flush()

    patients = {p.given_name: p for p in (await session.execute(select(Patient))).scalars()}
    referrals = (
        ("Astrid", "sykepleier.rodoy", Urgency.WEEK, timedelta(hours=30),
         "Fall i hjemmet to ganger siste måned, svimmel ved oppreising. Ønsker gjennomgang av medisiner.",
         "Å kunne bo hjemme og gå tur til butikken.", "Geriater, hjemmesykepleier, datter", 3.5),
        ("Johan", "sykepleier.luroy", Urgency.DAY, timedelta(hours=3),
         "Økende tungpust og vektøkning 3 kg siste uke; kjent hjertesvikt.",
         "Å slippe innleggelse; være hjemme med kona.", "Geriater og hjemmesykepleier", 4.0),
    )
    for given, username, urgency, age, reason, matters, wished, hours in referrals:
        patient, user = patients.get(given), users.get(username)
        if patient is None or user is None:
            continue
        referral = Referral(
            public_id=new_public_id(), patient_id=patient.id, reason=reason, urgency=urgency, what_matters=matters,
            wished_participants=wished, consultation_type_id=types[1].id, referred_by_user_id=user.id,
            referring_organisation_id=user.organisation_id, otherwise_hospital=hospital, travel_hours=hours,
            status=ReferralStatus.OPEN, created_at=now - age, responded_at=None, closed_reason="")
        session.add(referral)
        await session.flush()
        await audit.record(session, actor, action="create", object_type="referral", object_id=referral.public_id,
                           patient_id=patient.id, reason="demo data")

    astrid = patients.get("Astrid")
    if astrid is not None:
        await _demo_booking_soon(session, clock, audit, actor, types[1], astrid, resources, public_url)
    marit = patients.get("Marit")
    if marit is not None:
        await _demo_booking(session, clock, audit, actor, types[1], marit, public_url)
    await session.flush()
    log.info("scheduling demo data loaded")


async def _demo_booking_soon(session: AsyncSession, clock: Clock, audit: AuditLog, actor: Actor,
                             ctype: ConsultationType, patient: Patient, resources: list[Resource],
                             public_url: str) -> None:
    """A joint consultation that starts ``SOON`` after seeding, whatever the hour: the specialist, the
    Rødøy nurse and the Rødøy health room, so a newcomer can try the call on the day of install.
    Placed directly, not through the slot finder: demo data may ignore opening hours and notice."""
    users = {u.id: u.username for u in (await session.execute(select(User))).scalars()}
    by_username = {users.get(r.user_id or 0): r for r in resources if r.kind is ResourceKind.PERSON}
    specialist, nurse = by_username.get("lege"), by_username.get("sykepleier.rodoy")
    room = next((r for r in resources if r.kind is ResourceKind.HEALTH_ROOM and r.name == ROOMS[0][0]), None)
    if specialist is None or nurse is None or room is None:
        return
    now = clock.now()
    start = (now + SOON).replace(second=0, microsecond=0)
    end = start + timedelta(minutes=ctype.duration_minutes)
    blocked = Interval(start - timedelta(minutes=ctype.buffer_before_minutes),
                       end + timedelta(minutes=ctype.buffer_after_minutes))
    assigned = (("specialist", specialist), ("nurse", nurse), ("room", room))
    public_id = new_public_id()
    booking = Booking(
        public_id=public_id, referral_id=None, patient_id=patient.id, consultation_type_id=ctype.id,
        start=start, end=end, status=BookingStatus.BOOKED, cancel_reason="", sequence=0,
        ical_uid=booking_uid(public_id, NotificationSettings(public_url=public_url)), patient_at_home=False,
        created_by_user_id=None, created_at=now, updated_at=now, reminder_queued_at=None,
        reservations=[
            Reservation(resource_id=resource.id, requirement_key=key, position=i, blocked_start=blocked.start,
                        blocked_end=blocked.end, active=True)
            for i, (key, resource) in enumerate(assigned)
        ])
    session.add(booking)
    await session.flush()
    await audit.record(session, actor, action="create", object_type="booking", object_id=public_id,
                       patient_id=patient.id, reason="demo data")


async def _demo_booking(session: AsyncSession, clock: Clock, audit: AuditLog, actor: Actor,
                        ctype: ConsultationType, patient: Patient, public_url: str) -> None:
    """Book the first free joint consultation from the next day on, as a coordinator would."""
    slots = SlotService(clock)
    now = clock.now()
    resolved = await slots.resolve(session, ctype, patient.home_municipality_id)
    window = Interval(now + timedelta(days=1), now + timedelta(days=15))
    query = slots.query_for(ctype, resolved, window, limit=1)
    calendars = await slots.load_calendars(session, {c for r in resolved for c in r.candidates}, window)
    found = find_slots(query, calendars, now=now)
    if not found:
        return
    slot = found[0]
    public_id = new_public_id()
    booking = Booking(
        public_id=public_id, referral_id=None, patient_id=patient.id, consultation_type_id=ctype.id,
        start=slot.start, end=slot.end, status=BookingStatus.BOOKED, cancel_reason="", sequence=0,
        ical_uid=booking_uid(public_id, NotificationSettings(public_url=public_url)), patient_at_home=False,
        created_by_user_id=None, created_at=now, updated_at=now, reminder_queued_at=None,
        reservations=[
            Reservation(resource_id=int(a.resource_id), requirement_key=a.requirement, position=i,
                        blocked_start=slot.blocked.start, blocked_end=slot.blocked.end, active=True)
            for i, a in enumerate(slot.assignments)
        ])
    session.add(booking)
    await session.flush()
    await audit.record(session, actor, action="create", object_type="booking", object_id=public_id,
                       patient_id=patient.id, reason="demo data")
