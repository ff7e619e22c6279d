"""The demo's six months of past consultations: deterministic, over before the first start, and leaving
what the rest of the demo shows as current (the queue, today's and later bookings, its patients) as it was."""

from __future__ import annotations

import time as timer
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import (
    AdmissionAvoided,
    Booking,
    BookingStatus,
    ConsultationOutcome,
    ConsultationType,
    FollowUp,
    Referral,
    ReferralStatus,
    Reservation,
    Resource,
    Urgency,
)
from scheduling.outcomes import decode_follow_up
from scheduling.services.referrals import RESPONSE_TARGET
from server.demo import HOSPITAL, seed_demo
from server.demo_history import PATIENTS, seed_history
from server.people.accounts import AccountService
from server.people.models import MunicipalityTravel, Organisation, Patient
from server.people.totp import TotpCipher
from server.platform.audit import AuditLog
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.local_time import OSLO

HISTORY_NAMES = {given for given, _, _ in PATIENTS}


@pytest.fixture(params=[datetime(2026, 11, 23, 8, 0, tzinfo=UTC),  # a Monday morning in Oslo
                        datetime(2026, 3, 31, 21, 30, tzinfo=UTC)],  # the night after the DST change
                ids=["november", "after-dst"])
def clock(request: pytest.FixtureRequest) -> FixedClock:
    return FixedClock(request.param)


async def _demo_without_history(db: Database, clock: FixedClock) -> None:
    accounts = AccountService(clock, AuditLog(clock), TotpCipher("test-totp-key-0123456789abcdef"))
    async with db.session() as session:
        await seed_demo(session, accounts, clock, history=False)


async def _snapshot(session: AsyncSession) -> list[tuple[Any, ...]]:
    """Every history booking with its referral, reservations and outcome, in words that do not depend
    on database ids or the random public ids."""
    patients = {p.id: p.national_id for p in (await session.execute(
        select(Patient).where(Patient.given_name.in_(HISTORY_NAMES)))).scalars()}
    types = {t.id: t.code for t in (await session.execute(select(ConsultationType))).scalars()}
    resources = {r.id: r.name for r in (await session.execute(select(Resource))).scalars()}
    rows = []
    for b in (await session.execute(select(Booking).where(Booking.patient_id.in_(patients))
                                    .order_by(Booking.start))).scalars():
        referral = await session.get(Referral, b.referral_id) if b.referral_id else None
        outcome = await session.get(ConsultationOutcome, b.id)
        rows.append((
            patients[b.patient_id], types[b.consultation_type_id], b.start, b.end, b.status, b.cancel_reason,
            b.patient_at_home, b.created_at, b.updated_at, b.sequence,
            tuple((resources[r.resource_id], r.requirement_key, r.blocked_start, r.blocked_end, r.active)
                  for r in b.reservations),
            None if referral is None else (referral.urgency, referral.reason, referral.created_at,
                                           referral.responded_at, referral.status, referral.escort_needed,
                                           referral.nurse_would_travel, referral.travel_hours,
                                           referral.otherwise_hospital, referral.closed_reason),
            None if outcome is None else (outcome.admission_avoided, outcome.follow_up, outcome.recorded_at,
                                          outcome.recorded_by_user_id),
        ))
    closed = [(patients[r.patient_id], r.urgency, r.created_at, r.closed_reason) for r in (await session.execute(
        select(Referral).where(Referral.patient_id.in_(patients), Referral.status == ReferralStatus.CLOSED)
        .order_by(Referral.created_at))).scalars()]
    return [*rows, ("closed", *closed)]


async def test_the_same_first_start_gives_the_same_history(db: Database, clock: FixedClock) -> None:
    await _demo_without_history(db, clock)
    async with db.session() as session:
        began = timer.perf_counter()
        counts = await seed_history(session, clock, hospital=HOSPITAL)
        took = timer.perf_counter() - began
        first = await _snapshot(session)
        await session.rollback()
    async with db.session() as session:
        again = await seed_history(session, clock, hospital=HOSPITAL)
        second = await _snapshot(session)
    print(f"demo history: {counts.bookings} bookings, {counts.referrals} referrals in {took * 1000:.0f} ms")
    assert counts == again
    assert first == second
    assert 120 <= counts.bookings <= 400, counts  # six months of a two-municipality pilot
    assert counts.patients == len(PATIENTS)


async def test_a_later_first_start_moves_the_history_along(db: Database, clock: FixedClock) -> None:
    await _demo_without_history(db, clock)
    async with db.session() as session:
        await seed_history(session, clock, hospital=HOSPITAL)
        first = await _snapshot(session)
        await session.rollback()
    later = FixedClock(clock.now() + timedelta(days=7))
    async with db.session() as session:
        await seed_history(session, later, hospital=HOSPITAL)
        second = await _snapshot(session)
    assert first[-2][2] < second[-2][2], "the newest consultation is a week later too"


async def test_the_history_is_over_before_the_first_start(db: Database, clock: FixedClock) -> None:
    await _demo_without_history(db, clock)
    async with db.session() as session:
        counts_before = await _current(session)
        await seed_history(session, clock, hospital=HOSPITAL)
    today = clock.now().astimezone(OSLO).date()
    midnight = datetime.combine(today, time(0), tzinfo=OSLO)
    async with db.session() as session:
        history = list((await session.execute(select(Booking).join(Patient, Patient.id == Booking.patient_id)
                                              .where(Patient.given_name.in_(HISTORY_NAMES)))).scalars())
        assert history and all(b.end <= midnight for b in history), "past only, ending the day before"
        assert min(b.start for b in history) >= midnight - timedelta(days=184)
        assert {b.status for b in history} == {BookingStatus.COMPLETED, BookingStatus.CANCELLED,
                                               BookingStatus.NO_SHOW}
        # nothing new in the queue, nothing new today or later, the demo's own patients untouched
        assert await _current(session) == counts_before
        referrals = list((await session.execute(select(Referral).where(
            Referral.id.in_([b.referral_id for b in history if b.referral_id])))).scalars())
        assert all(r.status is not ReferralStatus.OPEN and r.responded_at is not None for r in referrals)
        # no two consultations of the one specialist overlap, buffers included (the database's own
        # guard on PostgreSQL would have refused them; on SQLite this is the check)
        everything = list((await session.execute(select(Reservation).where(Reservation.active.is_(True)))).scalars())
    by_resource: dict[int, list[tuple[datetime, datetime]]] = {}
    for r in everything:
        by_resource.setdefault(r.resource_id, []).append((r.blocked_start, r.blocked_end))
    for ranges in by_resource.values():
        ranges.sort()
        assert all(a[1] <= b[0] for a, b in pairwise(ranges)), "a double booking"


async def _current(session: AsyncSession) -> tuple[int, int, list[tuple[str, int]]]:
    """The open queue, today's and later bookings, and each demo patient's number of bookings."""
    open_referrals = (await session.execute(select(func.count(Referral.id)).where(
        Referral.status == ReferralStatus.OPEN))).scalar_one()
    now = (await session.execute(select(func.max(Booking.created_at)))).scalar_one()
    upcoming = (await session.execute(select(func.count(Booking.id)).where(
        Booking.end > (now or datetime.now(UTC)) - timedelta(hours=1)))).scalar_one()
    per_patient = [(name, n) for name, n in (await session.execute(
        select(Patient.given_name, func.count(Booking.id)).outerjoin(Booking, Booking.patient_id == Patient.id)
        .where(Patient.given_name.in_(["Astrid", "Johan", "Marit"])).group_by(Patient.given_name)
        .order_by(Patient.given_name))).all()]
    return open_referrals, upcoming, per_patient


async def test_the_history_has_what_the_benefits_report_counts(db: Database, clock: FixedClock) -> None:
    await _demo_without_history(db, clock)
    async with db.session() as session:
        await seed_history(session, clock, hospital=HOSPITAL)
    async with db.session() as session:
        history = list((await session.execute(select(Booking).join(Patient, Patient.id == Booking.patient_id)
                                              .where(Patient.given_name.in_(HISTORY_NAMES)))).scalars())
        outcomes = {o.booking_id: o for o in (await session.execute(select(ConsultationOutcome))).scalars()}
        referrals = {r.id: r for r in (await session.execute(select(Referral))).scalars()}
        municipalities = set((await session.execute(select(Patient.home_municipality_id).where(
            Patient.given_name.in_(HISTORY_NAMES)))).scalars())
        travel = set((await session.execute(select(MunicipalityTravel.municipality_id))).scalars())
        types = {t.id: t.code for t in (await session.execute(select(ConsultationType))).scalars()}
        hospital = (await session.execute(select(Organisation).where(Organisation.name == HOSPITAL))).scalar_one()
    completed = [b for b in history if b.status is BookingStatus.COMPLETED]
    assert len(completed) > 0.7 * len(history)
    assert {b.id for b in completed} == set(outcomes) & {b.id for b in history}, "every held one has its outcome"
    assert not {b.id for b in history if b.status is not BookingStatus.COMPLETED} & set(outcomes)
    for b in history:
        if b.status is BookingStatus.CANCELLED:
            assert b.cancel_reason and not any(r.active for r in b.reservations)
    for o in outcomes.values():
        codes = decode_follow_up(o.follow_up)
        assert not (o.admission_avoided is AdmissionAvoided.YES and FollowUp.ADMISSION in codes)
    assert {o.admission_avoided for o in outcomes.values()} == set(AdmissionAvoided)
    assert len(municipalities) == 2 and municipalities <= travel
    assert set(types[b.consultation_type_id] for b in history) == {
        "joint_consultation", "short_follow_up", "advance_care_planning"}
    assert any(b.patient_at_home for b in history) and not all(b.patient_at_home for b in history)
    linked = [referrals[b.referral_id] for b in history if b.referral_id]
    assert any(r.escort_needed for r in linked) and any(r.nurse_would_travel for r in linked)
    assert all(r.otherwise_hospital == hospital.name and r.travel_hours for r in linked)
    # response times by urgency: most within the target, some past it
    for urgency in Urgency:
        times = [r.responded_at - r.created_at for r in linked if r.urgency is urgency and r.responded_at]
        assert times, urgency
        within = sum(t <= RESPONSE_TARGET[urgency] for t in times) / len(times)
        assert 0.6 <= within < 1.0 or len(times) < 10, (urgency, within)
        assert all(t > timedelta(0) for t in times)
    for b in history:
        if b.referral_id:
            assert referrals[b.referral_id].responded_at <= b.created_at < b.start  # type: ignore[operator]
