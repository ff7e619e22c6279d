"""The cheaper rate counter answers exactly as aiortc's own, call for call."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rooms.media.aiortc_hook import AIORTC_RATE_COUNTER as RateCounter
from rooms.media.rate_counter import WindowRateCounter

_CALLS = st.lists(
    st.tuples(st.sampled_from(["add", "rate", "reset"]), st.integers(0, 2500), st.integers(0, 1500)),
    max_size=300,
)


def test_the_comparison_is_with_aiortc_s_own_counter() -> None:
    assert RateCounter.__module__ == "aiortc.rate"


@settings(max_examples=200, deadline=None)
@given(calls=_CALLS, window=st.sampled_from([1, 5, 100, 1000]), start=st.integers(0, 10**12))
def test_same_answers_as_aiortc(calls: list[tuple[str, int, int]], window: int, start: int) -> None:
    ours, theirs = WindowRateCounter(window, 8000), RateCounter(window, 8000)
    now = start
    for call, gap, value in calls:
        now += gap if gap > 1000 else gap % 40  # mostly packet gaps, now and then a pause
        if call == "add":
            ours.add(value, now)
            theirs.add(value, now)
        elif call == "rate":
            assert ours.rate(now) == theirs.rate(now)
        else:
            ours.reset()
            theirs.reset()
    assert ours.rate(now) == theirs.rate(now)
