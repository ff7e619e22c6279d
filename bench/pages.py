"""Page benchmark at a real week's volume: 200 bookings in one week on SQLite, over loopback.

Run: ``.venv/bin/python bench/pages.py [--rounds 60] [--bookings 200] [--referrals 350]``

Builds a temporary SQLite database with the demo data, 100 more patients, ``--bookings`` bookings of
the demo specialist spread over the working days of one week (40 a day at 200) and ``--referrals``
open referrals, then starts the real app on loopback (aiohttp's test server, the same middlewares,
sessions and audit log as production), logs in as the specialist with a TOTP code and times:

- ``day list``: ``GET /day`` of one of those days,
- ``week calendar``: ``GET /calendar`` of that week,
- ``booking``: ``GET /bookings/<id>`` of one booking,
- ``referrals api``: ``GET /api/referrals`` (as the coordinator, who sees the whole queue).

A baseline (``GET /healthz``, no database work) is timed in the same process; the ratio of each page's
p50 to it says how much of a figure is the page and how much the machine. The machine's load average
is printed before and after, since the figures are only comparable on a quiet machine.

Prints one line per page as ``NAME p50: X ms p95: Y ms`` and whether the targets are met
(p95 <= 100 ms for the day list and the week calendar, p95 <= 20 ms for a booking).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere without installing

from sqlalchemy import select

from bench.common import (
    TOTP_KEY,
    audit_rows,
    getter,
    load_line,
    percentile,
    served_app,
    time_requests,
)
from server.demo import seed_demo
from server.people.accounts import AccountService
from server.people.models import User
from server.people.totp import TotpCipher
from server.platform.audit import AuditLog
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import DEMO_TOTP_SECRET
from tests.helpers import login_as
from tests.volume_data import WEEK, add_volume

DAY = WEEK + timedelta(days=2)
PATIENTS = 100
TARGETS = {"day list": 100.0, "week calendar": 100.0, "booking": 20.0}


async def _seed(db: Database, clock: FixedClock, bookings: int, referrals: int) -> str:
    """The demo data plus the volume; returns the public id of one booking on ``DAY``."""
    accounts = AccountService(clock, AuditLog(clock), TotpCipher(TOTP_KEY))
    async with db.session() as session:
        await seed_demo(session, accounts, clock)
        for user in (await session.execute(select(User))).scalars():
            await accounts.set_totp_secret(session, user, DEMO_TOTP_SECRET)
    volume = await add_volume(db, clock, bookings=bookings, referrals=referrals, patients=PATIENTS, week=WEEK)
    per_day = -(-bookings // 5)
    return volume.bookings[(DAY - WEEK).days * per_day]


async def main(rounds: int, bookings: int, referrals: int) -> None:
    print(load_line("before"))
    fixed = FixedClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    seeded: list[str] = []

    async def seed(db: Database) -> None:
        seeded.append(await _seed(db, fixed, bookings, referrals))

    async with served_app(fixed, seed) as served:
        client, db, one_booking = served.client, served.db, seeded[0]
        baseline = await time_requests(rounds, getter(client, "/healthz"))
        await login_as(client, "lege", fixed)
        pages = {
            "day list": f"/day?date={DAY.isoformat()}",
            "week calendar": f"/calendar?week={WEEK.isoformat()}",
            "booking": f"/bookings/{one_booking}",
        }
        results: dict[str, list[float]] = {}
        rows: dict[str, float] = {}
        for name, path in pages.items():
            before = await audit_rows(db)
            results[name] = await time_requests(rounds, getter(client, path))
            rows[name] = (await audit_rows(db) - before) / (rounds + 1)
        await client.post("/logout", data={})
        client.session.cookie_jar.clear()
        await login_as(client, "koordinator", fixed)
        before = await audit_rows(db)
        results["referrals api"] = await time_requests(max(5, rounds // 6), getter(client, "/api/referrals"))
        rows["referrals api"] = (await audit_rows(db) - before) / (max(5, rounds // 6) + 1)
    base_p50 = percentile(baseline, 50)
    print(f"bookings in the week: {bookings} ({-(-bookings // 5)} on the day listed), open referrals: {referrals}, "
          f"rounds: {rounds}")
    print(f"baseline (GET /healthz) p50: {base_p50:.1f} ms p95: {percentile(baseline, 95):.1f} ms")
    met = True
    for name, timings in results.items():
        p50, p95 = percentile(timings, 50), percentile(timings, 95)
        print(f"{name} p50: {p50:.1f} ms p95: {p95:.1f} ms")
        target = TARGETS.get(name)
        verdict = "" if target is None else (" met" if p95 <= target else " MISSED")
        if target is not None and p95 > target:
            met = False
        print(f"  {p50 / base_p50:.0f}x the baseline's p50, audit rows per view: {rows[name]:.0f}"
              + ("" if target is None else f", target p95 <= {target:.0f} ms:{verdict}"))
    print(load_line("after"))
    print(f"targets: {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--bookings", type=int, default=200)
    parser.add_argument("--referrals", type=int, default=350)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.bookings, args.referrals))
