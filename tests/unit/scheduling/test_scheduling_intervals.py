"""Interval sets against a plain set-of-minutes model (hypothesis), plus the validation rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.errors import InvalidInterval
from scheduling.intervals import Interval, IntervalSet, to_utc

BASE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def at(minute: int) -> datetime:
    return BASE + timedelta(minutes=minute)


pairs = st.lists(
    st.tuples(st.integers(0, 300), st.integers(1, 60)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=25,
)


def build(raw: list[tuple[int, int]]) -> IntervalSet:
    return IntervalSet.from_pairs((at(a), at(b)) for a, b in raw)


def model(raw: list[tuple[int, int]]) -> set[int]:
    return {m for a, b in raw for m in range(a, b)}


def minutes(s: IntervalSet) -> set[int]:
    return {
        m
        for i in s
        for m in range((i.start - BASE) // timedelta(minutes=1), (i.end - BASE) // timedelta(minutes=1))
    }


def assert_normalised(s: IntervalSet) -> None:
    items = list(s)
    for left, right in pairwise(items):
        assert left.end < right.start  # sorted, disjoint and never touching


@given(pairs)
def test_construction_normalises_and_keeps_every_minute(raw: list[tuple[int, int]]) -> None:
    s = build(raw)
    assert_normalised(s)
    assert minutes(s) == model(raw)
    assert IntervalSet(Interval(at(a), at(b)) for a, b in raw) == s


@given(pairs, pairs)
def test_union_intersection_difference_match_the_model(
    a: list[tuple[int, int]], b: list[tuple[int, int]]
) -> None:
    sa, sb = build(a), build(b)
    for result, expected in (
        (sa.union(sb), model(a) | model(b)),
        (sa.intersection(sb), model(a) & model(b)),
        (sa.difference(sb), model(a) - model(b)),
    ):
        assert_normalised(result)
        assert minutes(result) == expected
    assert sa.intersection(sb) == sb.intersection(sa)


@given(pairs, st.integers(0, 300), st.integers(1, 120))
def test_bisect_queries_match_the_model(raw: list[tuple[int, int]], start: int, length: int) -> None:
    s = build(raw)
    probe = set(range(start, start + length))
    window = Interval(at(start), at(start + length))
    assert s.overlaps(window) == bool(probe & model(raw))
    assert minutes(s.clip(window)) == probe & model(raw)
    covered_by_one = any(i.contains(window) for i in s)
    assert s.covers(window) == covered_by_one
    assert s.contains_instant(at(start)) == (start in model(raw))


@given(pairs, st.integers(0, 30), st.integers(0, 30))
def test_widen_grows_each_member(raw: list[tuple[int, int]], before: int, after: int) -> None:
    widened = build(raw).widen(timedelta(minutes=before), timedelta(minutes=after))
    expected = {m for a, b in raw for m in range(a - before, b + after)}
    assert minutes(widened) == expected
    assert_normalised(widened)


def test_touching_intervals_merge_so_a_slot_can_cross_the_seam() -> None:
    s = build([(0, 240), (240, 480)])
    assert list(s) == [Interval(at(0), at(480))]


def test_shorten_ends_gives_start_instants() -> None:
    s = build([(0, 30), (60, 70)]).shorten_ends(timedelta(minutes=15))
    assert list(s) == [Interval(at(0), at(15))]


def test_non_utc_input_is_stored_in_utc() -> None:
    oslo = ZoneInfo("Europe/Oslo")
    i = Interval(datetime(2026, 1, 5, 9, 0, tzinfo=oslo), datetime(2026, 1, 5, 10, 0, tzinfo=oslo))
    assert i.start == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    assert i.start.tzinfo is UTC
    assert i.duration == timedelta(hours=1)


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (datetime(2026, 1, 5, 9), datetime(2026, 1, 5, 10), "interval.naive"),
        (at(10), at(10), "interval.empty"),
        (at(10), at(5), "interval.empty"),
    ],
)
def test_invalid_intervals_are_refused(start: datetime, end: datetime, code: str) -> None:
    with pytest.raises(InvalidInterval) as info:
        Interval(start, end)
    assert info.value.code == code
    with pytest.raises(InvalidInterval):
        IntervalSet.from_pairs([(start, end)])


def test_to_utc_refuses_naive() -> None:
    with pytest.raises(InvalidInterval):
        to_utc(datetime(2026, 1, 1))


def test_negative_widen_is_refused() -> None:
    with pytest.raises(InvalidInterval):
        build([(0, 10)]).widen(timedelta(minutes=-1), timedelta(0))
