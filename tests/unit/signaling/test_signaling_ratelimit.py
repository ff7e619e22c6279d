"""The per-connection token bucket, driven by a fake clock."""

from __future__ import annotations

import pytest

from signaling.ratelimit import MESSAGE_BURST, MESSAGE_RATE, TokenBucket


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_refused() -> None:
    clock = FakeMonotonic()
    bucket = TokenBucket(clock=clock, rate=20, burst=40)
    assert all(bucket.try_take() for _ in range(40))
    assert not bucket.try_take()


def test_a_ten_times_flood_is_cut_to_the_burst_plus_the_rate() -> None:
    clock = FakeMonotonic()
    bucket = TokenBucket(clock=clock)
    accepted = 0
    # One second of 10× the allowed rate, one message every 1/200 s.
    for _ in range(int(MESSAGE_RATE * 10)):
        clock.now += 1 / (MESSAGE_RATE * 10)
        accepted += bucket.try_take()
    assert accepted == pytest.approx(MESSAGE_BURST + MESSAGE_RATE, abs=1)


def test_tokens_refill_at_the_rate_up_to_the_burst() -> None:
    clock = FakeMonotonic()
    bucket = TokenBucket(clock=clock, rate=20, burst=40)
    for _ in range(40):
        bucket.try_take()
    clock.now += 0.5
    assert sum(bucket.try_take() for _ in range(20)) == 10
    clock.now += 3600
    assert sum(bucket.try_take() for _ in range(100)) == 40


def test_a_clock_stepping_back_does_not_drain_or_fill() -> None:
    clock = FakeMonotonic()
    bucket = TokenBucket(clock=clock, rate=20, burst=40)
    bucket.try_take(10)
    clock.now -= 100
    assert bucket.tokens == 30
    assert bucket.try_take()
    assert bucket.tokens == 29


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(clock=FakeMonotonic(), rate=0)
