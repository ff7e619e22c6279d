"""The password-login throttle on its own: the window, the doubling delay, the lock, bounded memory."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.people import login_throttle
from server.people.login_throttle import LoginThrottle
from server.platform.clock import FixedClock


def test_five_free_failures_then_a_doubling_delay() -> None:
    clock = FixedClock()
    throttle = LoginThrottle(clock, limit_per_hour=100)
    for _ in range(5):
        assert throttle.check("lege", "10.0.0.1") is None
        throttle.record_failure("lege", "10.0.0.1")
    refusal = throttle.check("lege", "10.0.0.1")
    assert refusal is not None and not refusal.locked and refusal.retry_after_seconds == 2
    clock.advance(timedelta(seconds=1))
    assert throttle.check("lege", "10.0.0.1") is None
    throttle.record_failure("lege", "10.0.0.1")
    refusal = throttle.check("lege", "10.0.0.1")
    assert refusal is not None and refusal.retry_after_seconds == 3  # 2 s delay, rounded up
    # The same name from another address, and another name from the same address, are free.
    assert throttle.check("lege", "10.0.0.2") is None
    assert throttle.check("LEGE ", "10.0.0.2") is None
    assert throttle.check("sykepleier", "10.0.0.1") is None


def test_the_lock_lasts_until_the_oldest_counted_failure_is_an_hour_old() -> None:
    clock = FixedClock()
    throttle = LoginThrottle(clock, limit_per_hour=10)
    for _ in range(10):
        throttle.record_failure("lege", "10.0.0.1")
        clock.advance(timedelta(minutes=1))
    refusal = throttle.check("lege", "10.0.0.1")
    assert refusal is not None and refusal.locked
    assert refusal.retry_after_seconds == 50 * 60 + 1
    clock.advance(timedelta(minutes=50, seconds=1))
    assert throttle.failures("lege", "10.0.0.1") == 9
    assert throttle.check("lege", "10.0.0.1") is None


def test_success_forgets_the_name_but_not_the_address() -> None:
    clock = FixedClock()
    throttle = LoginThrottle(clock, limit_per_hour=100)
    for i in range(25):
        throttle.record_failure(f"navn{i}", "10.0.0.1")
    throttle.record_success("navn0", "10.0.0.1")
    assert throttle.failures("navn0", "10.0.0.1") == 0
    refusal = throttle.check("egen.konto", "10.0.0.1")
    assert refusal is not None  # the address's own count still stands


def test_memory_stays_bounded_under_a_flood_of_made_up_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(login_throttle, "MAX_KEYS", 50)
    clock = FixedClock()
    throttle = LoginThrottle(clock, limit_per_hour=100)
    for i in range(1000):
        throttle.record_failure(f"navn{i}", f"10.0.{i % 7}.1")
    assert len(throttle._failures) <= 50
    assert throttle.failures("navn999", "10.0.5.1") == 1  # the newest are kept
    assert throttle.failures("navn0", "10.0.0.1") == 0
