"""Slot-search benchmark: 3 resources over 4 weeks with 10,000 existing bookings.

Run: ``.venv/bin/python bench/slot_search.py [--searches 300] [--seed 7]``

Each timed search does what the booking service will do per request: build the busy sets from raw
``(start, end)`` rows (as a database returns them) and run :func:`find_slots`. The weeks include the
spring DST change. A naive baseline (every grid point, every booking scanned linearly) runs on a subset
of the same searches in the same process; both must return the same slots, and the ratio is printed.

Prints ``p50: N ms`` and ``p95: N ms`` for the real search (target p95 <= 50 ms).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time as clock
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere without installing

from scheduling.availability import Availability, TimeRange, WeeklyHours, expand
from scheduling.intervals import Interval, IntervalSet
from scheduling.slot_search import Requirement, ResourceCalendar, SlotQuery, find_slots

OSLO = ZoneInfo("Europe/Oslo")
FIRST_DAY = date(2026, 3, 2)  # a Monday; the 4 weeks include the change to summer time on 29 March
WEEKS = 4
BOOKINGS = 10_000
Rows = list[tuple[datetime, datetime]]


@dataclass(frozen=True)
class Search:
    query: SlotQuery
    now: datetime


def oslo(d: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm), tzinfo=OSLO)


def make_world(rng: random.Random) -> tuple[dict[str, Availability], dict[str, Rows], Interval]:
    window = Interval(oslo(FIRST_DAY, 0), oslo(FIRST_DAY + timedelta(weeks=WEEKS), 0))
    availability = {
        "specialist": Availability(WeeklyHours.weekdays(TimeRange(time(8), time(15, 30)))),
        "nurse": Availability(WeeklyHours.weekdays(TimeRange(time(7, 30), time(15)))),
        "room": Availability(WeeklyHours.weekdays(TimeRange(time(8), time(16)))),
    }
    # Bookings and imported busy times, at any hour (imported calendars have evenings too), 5-minute
    # grid, 5-15 minutes long; overlaps are allowed because imported busy times do overlap.
    rows: dict[str, Rows] = {rid: [] for rid in availability}
    span_minutes = int(window.duration / timedelta(minutes=5))
    resource_ids = list(availability)
    for _ in range(BOOKINGS):
        rid = rng.choice(resource_ids)
        start = window.start + timedelta(minutes=5 * rng.randrange(span_minutes))
        rows[rid].append((start, start + timedelta(minutes=5 * rng.randint(1, 3))))
    for rid in rows:
        rows[rid].sort()  # as ORDER BY start from the database
    return availability, rows, window


def make_searches(rng: random.Random, window: Interval, count: int) -> list[Search]:
    searches = []
    for _ in range(count):
        day = FIRST_DAY + timedelta(days=rng.randrange(WEEKS * 7 - 7))
        now = oslo(day, rng.randrange(7, 17), rng.choice([0, 7, 30, 52]))
        query = SlotQuery(
            requirements=(
                Requirement.one("specialist", "specialist"),
                Requirement.one("nurse", "nurse"),
                Requirement.one("room", "room"),
            ),
            window=Interval(max(window.start, now), window.end),
            duration=timedelta(minutes=rng.choice([15, 30, 60])),
            buffer_before=timedelta(minutes=rng.choice([0, 5, 10])),
            buffer_after=timedelta(minutes=rng.choice([0, 5])),
            min_notice=timedelta(hours=rng.choice([0, 2, 24])),
            step=timedelta(minutes=rng.choice([5, 15])),
            limit=rng.choice([5, 10, 20]),
        )
        searches.append(Search(query, now))
    return searches


def fast(
    search: Search, availability: Mapping[str, Availability], rows: Mapping[str, Rows]
) -> list[datetime]:
    calendars = {
        rid: ResourceCalendar(rid, availability[rid], IntervalSet.from_pairs(rows[rid]))
        for rid in availability
    }
    return [s.start for s in find_slots(search.query, calendars, now=search.now)]


def naive(
    search: Search, availability: Mapping[str, Availability], rows: Mapping[str, Rows]
) -> list[datetime]:
    """Every grid point in turn; opening hours looked up per point, every booking scanned per point."""
    q = search.query
    hours = {rid: list(expand(av, q.window)) for rid, av in availability.items()}
    step = q.step
    # grid: the step counted from local midnight (DST-safe for steps dividing an hour, as here)
    t = oslo(q.window.start.astimezone(OSLO).date(), 0).astimezone(UTC)
    earliest = max(q.window.start, search.now + q.min_notice)
    found: list[datetime] = []
    while t + q.duration <= q.window.end and len(found) < q.limit:
        if t >= earliest:
            lo, hi = t - q.buffer_before, t + q.duration + q.buffer_after
            ok = True
            for rid in availability:
                if not any(h.start <= t and t + q.duration <= h.end for h in hours[rid]):
                    ok = False
                    break
                if any(s < hi and lo < e for s, e in rows[rid]):
                    ok = False
                    break
            if ok:
                found.append(t)
        t += step
    return found


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))  # nearest rank
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--naive", type=int, default=15, help="how many of the searches the baseline repeats")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    availability, rows, window = make_world(rng)
    searches = make_searches(rng, window, args.searches)
    fast(searches[0], availability, rows)  # warm caches (holidays per year, zoneinfo) outside the timing

    timings: list[float] = []
    found: list[int] = []
    for search in searches:
        started = clock.perf_counter()
        result = fast(search, availability, rows)
        timings.append((clock.perf_counter() - started) * 1000)
        found.append(len(result))

    naive_timings: list[float] = []
    for search in searches[: args.naive]:
        started = clock.perf_counter()
        expected = naive(search, availability, rows)
        naive_timings.append((clock.perf_counter() - started) * 1000)
        if expected != fast(search, availability, rows):
            raise SystemExit("baseline and slot search disagree: a bug, not a benchmark result")

    per_resource = ", ".join(f"{rid} {len(r)}" for rid, r in rows.items())
    print(f"resources: 3, weeks: {WEEKS}, bookings: {sum(len(r) for r in rows.values())} ({per_resource})")
    short = sum(n < s.query.limit for n, s in zip(found, searches, strict=True))
    print(
        f"searches: {len(searches)}, slots found per search: median {statistics.median(found):.0f}, "
        f"searches that found fewer slots than asked (so scanned all 4 weeks): {short}"
    )
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    print(f"p50: {p50:.1f} ms")
    print(f"p95: {p95:.1f} ms")
    print(f"max: {max(timings):.1f} ms")
    naive_p50 = percentile(naive_timings, 50)
    fast_same = percentile(timings[: args.naive], 50)
    print(
        f"naive baseline ({len(naive_timings)} of the same searches, linear scan): p50: {naive_p50:.1f} ms, "
        f"p95: {percentile(naive_timings, 95):.1f} ms"
    )
    print(f"speed-up on those searches (p50 naive / p50 slot search): {naive_p50 / fast_same:.0f}x")
    print(f"target p95 <= 50 ms: {'met' if p95 <= 50 else 'MISSED'}")


if __name__ == "__main__":
    main()
