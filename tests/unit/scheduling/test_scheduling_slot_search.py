"""Slot search: hours, buffers, notice, step grid across DST, any-of groups, three resources, and a
property test against a brute-force search that checks every grid point on its own."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from scheduling.availability import Availability, DateException, ExceptionKind, TimeRange, WeeklyHours, expand
from scheduling.errors import InvalidSearch, SlotUnavailable
from scheduling.intervals import Interval, IntervalSet
from scheduling.slot_search import (
    Assignment,
    Requirement,
    ResourceCalendar,
    Slot,
    SlotQuery,
    check_slot,
    find_slots,
)

OSLO = ZoneInfo("Europe/Oslo")
WEEKDAYS = Availability(WeeklyHours.weekdays(TimeRange(time(8), time(16))))
EVERY_DAY = Availability(
    WeeklyHours.from_mapping(dict.fromkeys(range(7), (TimeRange(time(8), time(16)),))),
    closed_on_public_holidays=False,
)
MONDAY = date(2026, 3, 9)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def oslo(d: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm), tzinfo=OSLO)


def local(moment: datetime) -> str:
    return moment.astimezone(OSLO).strftime("%a %H:%M")


def busy(*spans: tuple[datetime, datetime]) -> IntervalSet:
    return IntervalSet.from_pairs(spans)


def days(start: date, n: int) -> Interval:
    return Interval(oslo(start, 0), oslo(start + timedelta(days=n), 0))


def query(
    *reqs: Requirement,
    window: Interval | None = None,
    duration: timedelta = timedelta(minutes=30),
    **kw: Any,
) -> SlotQuery:
    return SlotQuery(requirements=reqs, window=window or days(MONDAY, 5), duration=duration, **kw)


def starts(slots: list[Slot]) -> list[str]:
    return [local(s.start) for s in slots]


def test_earliest_slots_on_the_grid_within_hours() -> None:
    cals = {"a": ResourceCalendar("a", WEEKDAYS)}
    slots = find_slots(query(Requirement.one("doc", "a"), limit=3), cals, now=NOW)
    assert starts(slots) == ["Mon 08:00", "Mon 08:15", "Mon 08:30"]
    assert slots[0].end - slots[0].start == timedelta(minutes=30)
    assert slots[0].start.tzinfo is UTC
    assert slots[0].resource_for("doc") == "a"


def test_last_slot_of_the_day_ends_at_closing_time() -> None:
    cals = {"a": ResourceCalendar("a", WEEKDAYS)}
    window = Interval(oslo(MONDAY, 15), oslo(MONDAY, 20))
    slots = find_slots(query(Requirement.one("doc", "a"), window=window), cals, now=NOW)
    assert starts(slots) == ["Mon 15:00", "Mon 15:15", "Mon 15:30"]


def test_busy_time_and_buffers_widen_busy_but_not_opening_hours() -> None:
    cals = {"a": ResourceCalendar("a", WEEKDAYS, busy((oslo(MONDAY, 10), oslo(MONDAY, 10, 30))))}
    q = query(
        Requirement.one("doc", "a"),
        window=Interval(oslo(MONDAY, 8), oslo(MONDAY, 12)),
        buffer_before=timedelta(minutes=10),
        buffer_after=timedelta(minutes=5),
        limit=20,
    )
    got = starts(find_slots(q, cals, now=NOW))
    # 09:25 would end 09:55 + 5 min after-buffer = 10:00: allowed, but off the 15-minute grid
    assert got[:6] == ["Mon 08:00", "Mon 08:15", "Mon 08:30", "Mon 08:45", "Mon 09:00", "Mon 09:15"]
    # after the busy time: 10:30 + 10 min before-buffer = 10:40, next grid point 10:45
    assert got[6] == "Mon 10:45"
    slot = find_slots(q, cals, now=NOW)[0]
    assert slot.blocked == Interval(oslo(MONDAY, 7, 50), oslo(MONDAY, 8, 35))


def test_buffer_exactly_fitting_the_gap_is_allowed() -> None:
    cals = {"a": ResourceCalendar("a", WEEKDAYS, busy((oslo(MONDAY, 8), oslo(MONDAY, 9))))}
    q = query(Requirement.one("doc", "a"), buffer_before=timedelta(minutes=15), limit=1)
    assert starts(find_slots(q, cals, now=NOW)) == ["Mon 09:15"]


def test_minimum_notice_from_the_injected_clock() -> None:
    cals = {"a": ResourceCalendar("a", WEEKDAYS)}
    now = oslo(MONDAY, 9, 7)
    slots = find_slots(
        query(Requirement.one("doc", "a"), min_notice=timedelta(hours=2), limit=2), cals, now=now
    )
    assert starts(slots) == ["Mon 11:15", "Mon 11:30"]
    # notice that runs past closing time moves to the next working day
    late = oslo(MONDAY, 15, 0)
    slots = find_slots(
        query(Requirement.one("doc", "a"), min_notice=timedelta(hours=1), limit=1), cals, now=late
    )
    assert starts(slots) == ["Tue 08:00"]


@pytest.mark.parametrize(("sunday", "offset_hours"), [(date(2026, 3, 29), 2), (date(2026, 10, 25), 1)])
def test_step_grid_follows_local_clock_on_dst_sundays(sunday: date, offset_hours: int) -> None:
    cals = {"a": ResourceCalendar("a", EVERY_DAY)}
    window = Interval(oslo(sunday - timedelta(days=1), 0), oslo(sunday + timedelta(days=1), 0))
    q = query(Requirement.one("doc", "a"), window=window, step=timedelta(minutes=20), limit=100)
    slots = find_slots(q, cals, now=NOW)
    by_day: dict[str, list[str]] = {}
    for s in slots:
        by_day.setdefault(s.start.astimezone(OSLO).strftime("%d"), []).append(
            s.start.astimezone(OSLO).strftime("%H:%M")
        )
    expected = [f"{h:02d}:{m:02d}" for h in range(8, 16) for m in (0, 20, 40)][:-1]  # last start 15:20
    assert list(by_day.values()) == [expected, expected]
    first_sunday = next(s for s in slots if s.start.astimezone(OSLO).date() == sunday)
    assert first_sunday.start.hour == 8 - offset_hours


def test_hour_long_step_across_the_night_change() -> None:
    always = Availability(
        WeeklyHours.from_mapping(dict.fromkeys(range(7), (TimeRange.parse("00:00-24:00"),))),
        closed_on_public_holidays=False,
    )
    cals = {"a": ResourceCalendar("a", always)}
    window = Interval(oslo(date(2026, 10, 25), 0), oslo(date(2026, 10, 25), 5))
    q = query(
        Requirement.one("r", "a"), window=window, step=timedelta(hours=1), duration=timedelta(minutes=30)
    )
    slots = find_slots(q, cals, now=NOW)
    # 02:00 happens twice on this night; both are on the grid and both are real, distinct instants
    assert [s.start.astimezone(OSLO).strftime("%H:%M") for s in slots] == [
        "00:00",
        "01:00",
        "02:00",
        "02:00",
        "03:00",
        "04:00",
    ]
    assert len({s.start for s in slots}) == 6


def test_public_holidays_are_skipped() -> None:
    cals = {"a": ResourceCalendar("a", WEEKDAYS)}
    window = Interval(oslo(date(2026, 4, 2), 0), oslo(date(2026, 4, 8), 0))  # Thu .. Tue of Easter
    slots = find_slots(query(Requirement.one("doc", "a"), window=window, limit=1), cals, now=NOW)
    assert slots[0].start == oslo(date(2026, 4, 7), 8)


def test_any_of_group_prefers_earlier_candidates_and_reports_the_choice() -> None:
    a_busy = busy((oslo(MONDAY, 8), oslo(MONDAY, 9)))
    cals = {"a": ResourceCalendar("a", WEEKDAYS, a_busy), "b": ResourceCalendar("b", WEEKDAYS)}
    q = query(
        Requirement.any_of("specialist", ["a", "b"]),
        window=Interval(oslo(MONDAY, 8), oslo(MONDAY, 10)),
        limit=8,
    )
    slots = find_slots(q, cals, now=NOW)
    chosen = [(local(s.start), s.resource_for("specialist")) for s in slots]
    # a is busy until 09:00, so b takes the early slots; from 09:00 the preferred a is free again
    assert chosen == [
        ("Mon 08:00", "b"),
        ("Mon 08:15", "b"),
        ("Mon 08:30", "b"),
        ("Mon 08:45", "b"),
        ("Mon 09:00", "a"),
        ("Mon 09:15", "a"),
        ("Mon 09:30", "a"),
    ]


def test_slot_may_not_be_stitched_from_two_candidates() -> None:
    # a is free 08:00–08:20 only, b from 08:20 on: the union is continuous but nobody has 30 minutes
    cals = {
        "a": ResourceCalendar("a", WEEKDAYS, busy((oslo(MONDAY, 8, 20), oslo(MONDAY, 16)))),
        "b": ResourceCalendar("b", WEEKDAYS, busy((oslo(MONDAY, 8), oslo(MONDAY, 8, 20)))),
    }
    q = query(Requirement.any_of("specialist", ["a", "b"]), step=timedelta(minutes=5), limit=1)
    assert starts(find_slots(q, cals, now=NOW)) == ["Mon 08:20"]


def test_three_resources_must_all_be_free_at_once() -> None:
    specialist = Availability(WeeklyHours.weekdays(TimeRange(time(8), time(15))))
    nurse = Availability(WeeklyHours.weekdays(TimeRange(time(7, 30), time(15, 30))))
    room = Availability(WeeklyHours.weekdays(TimeRange(time(9), time(14))))
    cals = {
        "spec": ResourceCalendar("spec", specialist, busy((oslo(MONDAY, 9), oslo(MONDAY, 11)))),
        "nurse": ResourceCalendar("nurse", nurse, busy((oslo(MONDAY, 11), oslo(MONDAY, 12)))),
        "room": ResourceCalendar("room", room, busy((oslo(MONDAY, 12, 30), oslo(MONDAY, 13, 45)))),
    }
    q = query(
        Requirement.one("specialist", "spec"),
        Requirement.one("nurse", "nurse"),
        Requirement.one("room", "room"),
        limit=3,
    )
    slots = find_slots(q, cals, now=NOW)
    # Monday: only 12:00–12:30 is common (room from 9, spec busy to 11, nurse to 12, room from 12:30)
    assert starts(slots) == ["Mon 12:00", "Tue 09:00", "Tue 09:15"]
    assert slots[0].assignments == (
        Assignment("specialist", "spec"),
        Assignment("nurse", "nurse"),
        Assignment("room", "room"),
    )


def test_one_resource_never_fills_two_requirements() -> None:
    cals = {
        "a": ResourceCalendar("a", WEEKDAYS, busy((oslo(MONDAY, 8), oslo(MONDAY, 9)))),
        "b": ResourceCalendar("b", WEEKDAYS),
    }
    # preferred b for the first role is the only candidate of the second: backtracking must pick a
    q = query(Requirement.any_of("first", ["b", "a"]), Requirement.one("second", "b"), limit=1)
    (slot,) = find_slots(q, cals, now=NOW)
    assert local(slot.start) == "Mon 09:00"
    assert slot.resource_ids == ("a", "b")


def test_exceptions_apply_to_the_search() -> None:
    av = Availability(WEEKDAYS.weekly, exceptions=(DateException(MONDAY, ExceptionKind.CLOSED),))
    cals = {"a": ResourceCalendar("a", av)}
    assert starts(find_slots(query(Requirement.one("doc", "a"), limit=1), cals, now=NOW)) == ["Tue 08:00"]


def test_nothing_free_gives_an_empty_list() -> None:
    cals = {
        "a": ResourceCalendar("a", WEEKDAYS, busy((oslo(MONDAY, 0), oslo(MONDAY + timedelta(days=7), 0))))
    }
    assert find_slots(query(Requirement.one("doc", "a")), cals, now=NOW) == []
    # notice beyond the window
    assert (
        find_slots(
            query(Requirement.one("doc", "a"), min_notice=timedelta(days=30)),
            {"a": ResourceCalendar("a", WEEKDAYS)},
            now=NOW,
        )
        == []
    )


def test_invalid_searches_have_codes() -> None:
    with pytest.raises(InvalidSearch) as info:
        find_slots(query(Requirement.one("doc", "ghost")), {}, now=NOW)
    assert info.value.code == "search.unknown_resource"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"duration": timedelta(0)}, "search.duration"),
        ({"step": timedelta(minutes=7)}, "search.step"),
        ({"limit": 0}, "search.limit"),
        ({"buffer_before": timedelta(minutes=-5)}, "search.negative"),
        (
            {"window": Interval(oslo(MONDAY, 0), oslo(MONDAY, 0) + timedelta(days=400))},
            "search.window_too_long",
        ),
    ]
    for kwargs, code in cases:
        with pytest.raises(InvalidSearch) as info:
            query(Requirement.one("doc", "a"), **kwargs)
        assert info.value.code == code
    with pytest.raises(InvalidSearch):
        Requirement("doc", ())
    with pytest.raises(InvalidSearch):
        query(Requirement.one("doc", "a"), Requirement.one("doc", "b"))


def test_check_slot_accepts_a_free_slot_and_refuses_a_taken_one() -> None:
    cals = {"a": ResourceCalendar("a", WEEKDAYS), "b": ResourceCalendar("b", WEEKDAYS)}
    q = query(Requirement.any_of("doc", ["a", "b"]), buffer_after=timedelta(minutes=10))
    slot = check_slot(q, cals, start=oslo(MONDAY, 10), chosen={"doc": "b"}, now=NOW)
    assert slot.resource_for("doc") == "b"
    # someone booked b meanwhile, ending inside our after-buffer's reach
    taken = {**cals, "b": ResourceCalendar("b", WEEKDAYS, busy((oslo(MONDAY, 10, 35), oslo(MONDAY, 11))))}
    with pytest.raises(SlotUnavailable) as info:
        check_slot(q, taken, start=oslo(MONDAY, 10), chosen={"doc": "b"}, now=NOW)
    assert (info.value.code, info.value.resource_id) == ("slot.busy", "b")
    for start, now, code in [
        (oslo(MONDAY, 7), NOW, "slot.outside_hours"),
        (oslo(MONDAY, 10), oslo(MONDAY, 11), "slot.notice"),
    ]:
        with pytest.raises(SlotUnavailable) as info:
            check_slot(q, cals, start=start, chosen={"doc": "a"}, now=now)
        assert info.value.code == code
    with pytest.raises(InvalidSearch):
        check_slot(q, cals, start=oslo(MONDAY, 10), chosen={"doc": "c"}, now=NOW)


# ---- property: the chunked interval search equals a brute-force check of every grid point ----------


def grid_points(window: Interval, step: timedelta) -> list[datetime]:
    """Every instant whose Oslo wall time is a multiple of step since midnight, both folds included."""
    points: set[datetime] = set()
    d = window.start.astimezone(OSLO).date() - timedelta(days=1)
    while d <= window.end.astimezone(OSLO).date():
        minute = 0
        while minute < 24 * 60:
            wall = datetime.combine(d, time(minute // 60, minute % 60))
            for fold in (0, 1):
                candidate = wall.replace(tzinfo=OSLO, fold=fold)
                if candidate.astimezone(UTC).astimezone(OSLO).replace(tzinfo=None) == wall:  # exists
                    points.add(candidate.astimezone(UTC))
            minute += step // timedelta(minutes=1)
        d += timedelta(days=1)
    return sorted(p for p in points if window.start <= p < window.end)


def brute_force(
    q: SlotQuery, cals: Mapping[str, ResourceCalendar], now: datetime
) -> list[tuple[datetime, tuple[str, ...]]]:
    found = []
    for t in grid_points(q.window, q.step):
        if t < now + q.min_notice or t + q.duration > q.window.end:
            continue
        consult = Interval(t, t + q.duration)
        guarded = Interval(t - q.buffer_before, t + q.duration + q.buffer_after)

        def free(rid: str, consult: Interval = consult, guarded: Interval = guarded) -> bool:
            hours_ok = expand(cals[rid].availability, consult).covers(consult)
            return hours_ok and not any(b.overlaps(guarded) for b in cals[rid].busy)

        options = [[c for c in r.candidates if free(c)] for r in q.requirements]

        def assign(
            i: int, used: tuple[str, ...], options: list[list[str]] = options
        ) -> tuple[str, ...] | None:
            if i == len(options):
                return used
            for c in options[i]:
                if c not in used and (result := assign(i + 1, (*used, c))) is not None:
                    return result
            return None

        if (chosen := assign(0, ())) is not None:
            found.append((t, chosen))
        if len(found) == q.limit:
            break
    return found


spans = st.lists(st.tuples(st.integers(0, 4 * 24 * 4 - 1), st.integers(1, 16)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(
    busy_a=spans,
    busy_b=spans,
    busy_c=spans,
    duration_q=st.integers(1, 8),
    before_m=st.sampled_from([0, 5, 10]),
    after_m=st.sampled_from([0, 5, 15]),
    step_m=st.sampled_from([5, 15, 20, 30, 45, 60]),
    notice_h=st.integers(0, 30),
    limit=st.integers(1, 60),
    group=st.booleans(),
)
def test_search_equals_brute_force_across_dst(
    busy_a: list[tuple[int, int]],
    busy_b: list[tuple[int, int]],
    busy_c: list[tuple[int, int]],
    duration_q: int,
    before_m: int,
    after_m: int,
    step_m: int,
    notice_h: int,
    limit: int,
    group: bool,
) -> None:
    origin = oslo(date(2026, 3, 28), 0)  # Saturday before the spring change, four days
    window = Interval(origin, origin + timedelta(days=4))

    base = origin.astimezone(UTC)  # aware Oslo arithmetic would be wall-clock arithmetic across the gap

    def to_set(raw: list[tuple[int, int]]) -> IntervalSet:
        return IntervalSet.from_pairs(
            (base + timedelta(minutes=15 * a), base + timedelta(minutes=15 * (a + n))) for a, n in raw
        )

    night_shift = Availability(
        WeeklyHours.from_mapping(
            dict.fromkeys(range(7), (TimeRange(time(0), time(3, 30)), TimeRange(time(7), time(17))))
        ),
        closed_on_public_holidays=False,
    )
    cals = {
        "a": ResourceCalendar("a", EVERY_DAY, to_set(busy_a)),
        "b": ResourceCalendar("b", night_shift, to_set(busy_b)),
        "c": ResourceCalendar("c", WEEKDAYS, to_set(busy_c)),
    }
    reqs = (
        (Requirement.any_of("x", ["a", "b"]), Requirement.any_of("y", ["b", "c"]))
        if group
        else (Requirement.one("x", "a"), Requirement.one("y", "b"), Requirement.one("z", "c"))
    )
    q = SlotQuery(
        requirements=reqs,
        window=window,
        duration=timedelta(minutes=10 * duration_q),
        buffer_before=timedelta(minutes=before_m),
        buffer_after=timedelta(minutes=after_m),
        min_notice=timedelta(hours=notice_h),
        step=timedelta(minutes=step_m),
        limit=limit,
    )
    now = origin - timedelta(hours=6)
    got = [(s.start, s.resource_ids) for s in find_slots(q, cals, now=now)]
    expected = brute_force(q, cals, now)
    event(f"slots found: {'none' if not expected else 'limit' if len(expected) == limit else 'some'}")
    assert got == expected
