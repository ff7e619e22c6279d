"""Benefits report benchmark: the report over 10,000 consultations, on SQLite, over loopback.

Run: ``.venv/bin/python bench/benefits.py [--rounds 30] [--consultations 10000]``

Builds a temporary SQLite database with the demo data and ``--consultations`` past consultations spread
over the six months before the demo's "now", in both demo municipalities (health room, nurse and the
specialist reserved; a tenth with the patient at home), 70 % from a referral (urgencies, escorts and
nurses who would have gone along mixed in), 80 % held, the rest cancelled or no-show, and an outcome on
most held ones. Rows are placed directly: the point is the number of rows the report reads. Then the
real app runs on loopback (aiohttp's test server, the same middlewares, sessions and audit log as
production), logs in as the demo team leader with a TOTP code and times
``GET /api/reports/benefits`` over those six months (every breakdown, response times and outcomes).

A baseline (``GET /healthz``, no database work) is timed in the same process; the ratio of the report's
p50 to it says how much of a figure is the report and how much the machine. The machine's load average
is printed before and after, since the figures are only comparable on a quiet machine; the process's CPU
time per view is printed too, which a busy machine does not inflate.

Prints ``benefits p50: X ms p95: Y ms`` and whether the target is met (p95 <= 500 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere without installing

from sqlalchemy import insert, select

from bench.common import TOTP_KEY, audit_rows, getter, load_line, percentile, served_app, time_requests
from scheduling.models import (
    AdmissionAvoided,
    Booking,
    BookingStatus,
    ConsultationOutcome,
    ConsultationType,
    Referral,
    ReferralStatus,
    Reservation,
    Resource,
    ResourceKind,
    Urgency,
)
from server.demo import seed_demo
from server.people.accounts import AccountService
from server.people.models import Organisation, Patient, User
from server.people.totp import TotpCipher
from server.platform.audit import AuditLog
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.local_time import OSLO
from server.platform.roles import OrganisationKind
from tests.conftest import DEMO_TOTP_SECRET
from tests.helpers import login_as

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
FIRST_DAY, LAST_DAY = date(2026, 5, 1), date(2026, 10, 31)
TARGET_P95_MS = 500.0
_FOLLOW_UPS = ["home_care", "gp", "home_care,gp", "outpatient", "admission", "home_care,outpatient", ""]


async def _seed(db: Database, fixed: FixedClock, consultations: int) -> None:
    accounts = AccountService(fixed, AuditLog(fixed), TotpCipher(TOTP_KEY))
    async with db.session() as session:
        await seed_demo(session, accounts, fixed)
        for user in (await session.execute(select(User))).scalars():
            await accounts.set_totp_secret(session, user, DEMO_TOTP_SECRET)
    rng = random.Random(20261202)  # the same rows on every run
    async with db.session() as session:
        municipalities = (await session.execute(select(Organisation).where(
            Organisation.kind == OrganisationKind.MUNICIPALITY).order_by(Organisation.id))).scalars().all()
        hospital = (await session.execute(select(Organisation).where(
            Organisation.kind == OrganisationKind.HOSPITAL).order_by(Organisation.id))).scalars().first()
        resources = (await session.execute(select(Resource))).scalars().all()
        specialist = next(r for r in resources if r.kind == ResourceKind.PERSON and r.organisation_id == (
            hospital.id if hospital else 0) and r.department_id is not None)
        places = []
        for municipality in municipalities:
            rooms = [r for r in resources
                     if r.kind == ResourceKind.HEALTH_ROOM and r.municipality_id == municipality.id]
            nurses = [r for r in resources if r.kind == ResourceKind.PERSON and r.organisation_id == municipality.id]
            if rooms and nurses:
                places.append((rooms[0], nurses[0]))
        patients = [p.id for p in (await session.execute(select(Patient))).scalars()]
        ctypes = [t.id for t in (await session.execute(select(ConsultationType))).scalars()]
        assert places and patients and ctypes, "the demo data has no health room, nurse, patient or type"
        days = (LAST_DAY - FIRST_DAY).days + 1
        referrals, bookings, reservations, outcomes = [], [], [], []
        for n in range(consultations):
            day = FIRST_DAY + timedelta(days=rng.randrange(days))
            start = datetime.combine(day, time(8 + n % 8, 5 * (n // 8 % 12)), tzinfo=OSLO).astimezone(UTC)
            room, nurse = places[n % len(places)]
            at_home = rng.random() < 0.1
            roll = rng.random()
            status = (BookingStatus.COMPLETED if roll < 0.8 else BookingStatus.CANCELLED if roll < 0.93
                      else BookingStatus.NO_SHOW)
            referral_id = None
            created = start - timedelta(days=rng.randint(1, 20))
            if rng.random() < 0.7:
                referral_id = n + 1_000_000
                referrals.append({
                    "id": referral_id, "public_id": f"bench-ref-{n}", "patient_id": rng.choice(patients),
                    "reason": "Oppfølging", "urgency": rng.choice(list(Urgency)).value, "what_matters": "",
                    "wished_participants": "", "consultation_type_id": None, "referred_by_user_id": None,
                    "referring_organisation_id": nurse.organisation_id, "otherwise_hospital": "",
                    "travel_hours": None, "escort_needed": rng.random() < 0.3,
                    "nurse_would_travel": rng.random() < 0.2, "status": ReferralStatus.BOOKED.value,
                    "created_at": created - timedelta(hours=rng.randint(1, 72)), "responded_at": None,
                    "closed_reason": ""})
            booking_id = n + 1_000_000
            bookings.append({
                "id": booking_id, "public_id": f"bench-bk-{n}", "referral_id": referral_id,
                "patient_id": rng.choice(patients), "consultation_type_id": ctypes[n % len(ctypes)],
                "start": start, "end": start + timedelta(minutes=30), "status": status.value, "cancel_reason": "",
                "sequence": 0, "ical_uid": f"bench-{n}@benefits", "patient_at_home": at_home,
                "created_by_user_id": None, "created_at": created, "updated_at": created,
                "reminder_queued_at": None})
            people = [(specialist, "specialist"), (nurse, "nurse")] + ([] if at_home else [(room, "room")])
            # inactive reservations: the bench places rows without the slot rules, and PostgreSQL's
            # no-overlap constraint only covers active ones
            reservations += [{"booking_id": booking_id, "resource_id": r.id, "requirement_key": key, "position": i,
                              "blocked_start": start, "blocked_end": start + timedelta(minutes=30),
                              "active": False} for i, (r, key) in enumerate(people)]
            if status is BookingStatus.COMPLETED and rng.random() < 0.75:
                outcomes.append({"booking_id": booking_id,
                                 "admission_avoided": rng.choice(list(AdmissionAvoided)).value,
                                 "follow_up": rng.choice(_FOLLOW_UPS), "recorded_by_user_id": None,
                                 "recorded_at": start + timedelta(hours=1)})
        for table, rows in ((Referral, referrals), (Booking, bookings), (Reservation, reservations),
                            (ConsultationOutcome, outcomes)):
            for i in range(0, len(rows), 2000):
                await session.execute(insert(table), rows[i:i + 2000])


async def main(rounds: int, consultations: int) -> None:
    print(load_line("before"))
    fixed = FixedClock(NOW)

    async def seed(db: Database) -> None:
        await _seed(db, fixed, consultations)

    async with served_app(fixed, seed) as served:
        client, db = served.client, served.db
        baseline = await time_requests(rounds, getter(client, "/healthz"))
        await login_as(client, "leder", fixed)
        before = await audit_rows(db)
        path = f"/api/reports/benefits?from={FIRST_DAY.isoformat()}&to={LAST_DAY.isoformat()}"
        async with client.get(path) as resp:
            held = (await resp.json())["totals"]["held"]["value"]
        cpu_before = clock.process_time()
        timings = await time_requests(rounds, getter(client, path))
        cpu_ms = (clock.process_time() - cpu_before) * 1000 / (rounds + 1)
        rows = (await audit_rows(db) - before) / (rounds + 2)
    base_p50 = percentile(baseline, 50)
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    print(f"consultations: {consultations} over {FIRST_DAY}..{LAST_DAY} ({held} held), rounds: {rounds}")
    print(f"baseline (GET /healthz) p50: {base_p50:.1f} ms p95: {percentile(baseline, 95):.1f} ms")
    print(f"benefits p50: {p50:.1f} ms p95: {p95:.1f} ms")
    met = p95 <= TARGET_P95_MS
    print(f"  {p50 / base_p50:.0f}x the baseline's p50, CPU per view (server and client): {cpu_ms:.0f} ms, "
          f"audit rows per view: {rows:.0f}, "
          f"target p95 <= {TARGET_P95_MS:.0f} ms: {'met' if met else 'MISSED'}")
    print(load_line("after"))
    print(f"targets: {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--consultations", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.consultations))
