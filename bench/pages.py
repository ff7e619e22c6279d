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
import os
import sys
import tempfile
import time as clock
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere without installing

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from server.app import create_app
from server.demo import seed_demo
from server.migrate import upgrade
from server.people.accounts import AccountService
from server.people.models import User
from server.people.totp import TotpCipher
from server.platform.audit import AuditLog
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database, create_engine
from server.platform.settings import Settings
from tests.conftest import DEMO_TOTP_SECRET, SECRET
from tests.helpers import LoopbackSecureJar, login_as
from tests.volume_data import WEEK, add_volume

TOTP_KEY = "bench-totp-key-0123456789abcdef"
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


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))  # nearest rank
    return ordered[index]


async def _time(rounds: int, request: Callable[[], Awaitable[int]]) -> list[float]:
    await request()  # warm: templates compiled, caches filled
    timings = []
    for _ in range(rounds):
        started = clock.perf_counter()
        status = await request()
        timings.append((clock.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"a page answered {status}: a bug, not a benchmark result")
    return timings


def _get(client: TestClient, path: str) -> Callable[[], Awaitable[int]]:
    async def request() -> int:
        async with client.get(path) as resp:
            await resp.read()
            return resp.status
    return request


async def _audit_rows(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one())


async def main(rounds: int, bookings: int, referrals: int) -> None:
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        fixed = FixedClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
        db = Database(create_engine(url))
        one_booking = await _seed(db, fixed, bookings, referrals)
        settings = Settings(database_url=url, session_secret=SECRET, totp_encryption_key=TOTP_KEY,
                            public_url="http://127.0.0.1", background_jobs=False)
        client = TestClient(TestServer(create_app(settings, clock=fixed), host="127.0.0.1"),
                            cookie_jar=LoopbackSecureJar())
        await client.start_server()
        try:
            baseline = await _time(rounds, _get(client, "/healthz"))
            await login_as(client, "lege", fixed)
            pages = {
                "day list": f"/day?date={DAY.isoformat()}",
                "week calendar": f"/calendar?week={WEEK.isoformat()}",
                "booking": f"/bookings/{one_booking}",
            }
            results: dict[str, list[float]] = {}
            rows: dict[str, float] = {}
            for name, path in pages.items():
                before = await _audit_rows(db)
                results[name] = await _time(rounds, _get(client, path))
                rows[name] = (await _audit_rows(db) - before) / (rounds + 1)
            await client.post("/logout", data={})
            client.session.cookie_jar.clear()
            await login_as(client, "koordinator", fixed)
            before = await _audit_rows(db)
            results["referrals api"] = await _time(max(5, rounds // 6), _get(client, "/api/referrals"))
            rows["referrals api"] = (await _audit_rows(db) - before) / (max(5, rounds // 6) + 1)
        finally:
            await client.close()
            await db.close()
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
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"targets: {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--bookings", type=int, default=200)
    parser.add_argument("--referrals", type=int, default=350)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.bookings, args.referrals))
