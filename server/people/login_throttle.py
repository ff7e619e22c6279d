"""Slowing down password guessing without letting a stranger lock the owner out.

Failed password logins are counted per (username, client address) and per client address, never per
account alone: guesses from one address then never delay the owner's own login from another. Names
that belong to no account are counted exactly like real ones, so being throttled says nothing about
whether an account exists. Counts live in memory for an hour: the server is one process (live calls
and their media are held in it too), and forgetting the counts at a restart costs an attacker's
attempts little next to what a database write on every wrong guess would tell them by its timing.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.platform.clock import Clock

WINDOW = timedelta(hours=1)
# Free tries for one name from one address before each further try waits twice as long as the last.
PAIR_FREE_FAILURES = 5
# One address may try several names (a shared ward computer); spraying many names is slowed later.
CLIENT_FREE_FAILURES = 20
# An address may fail this many times the per-name limit in the hour, across all names.
CLIENT_LIMIT_FACTOR = 3
MAX_DELAY_SECONDS = 15 * 60
# Bounds memory under a flood of made-up names: the keys that failed longest ago are forgotten first.
MAX_KEYS = 100_000


@dataclass(frozen=True)
class Refusal:
    """Why a login attempt is refused before the password is even checked."""

    retry_after_seconds: int
    locked: bool
    """True when the hourly limit is reached (rather than a growing delay between tries)."""


@dataclass(frozen=True)
class _Rule:
    free: int
    limit: int


class LoginThrottle:
    """Counts failed password logins per (name, address) and per address, and says when to wait."""

    def __init__(self, clock: Clock, limit_per_hour: int) -> None:
        self._clock = clock
        limit = max(limit_per_hour, 1)
        self._pair_rule = _Rule(free=min(PAIR_FREE_FAILURES, limit), limit=limit)
        client_limit = limit * CLIENT_LIMIT_FACTOR
        self._client_rule = _Rule(free=min(CLIENT_FREE_FAILURES, client_limit), limit=client_limit)
        self._failures: OrderedDict[tuple[str, str], deque[datetime]] = OrderedDict()

    @staticmethod
    def _pair_key(username: str, client: str) -> tuple[str, str]:
        return (f"name:{username.strip().lower()}", client)

    @staticmethod
    def _client_key(client: str) -> tuple[str, str]:
        return ("client", client)

    def _recent(self, key: tuple[str, str], now: datetime) -> deque[datetime]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - WINDOW:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def _wait(self, times: deque[datetime], rule: _Rule, now: datetime) -> Refusal | None:
        if len(times) >= rule.limit:
            seconds = (times[-rule.limit] + WINDOW - now).total_seconds()
            return Refusal(retry_after_seconds=max(int(seconds) + 1, 1), locked=True)
        if len(times) >= rule.free:
            ready = times[-1] + timedelta(seconds=min(2 ** (len(times) - rule.free), MAX_DELAY_SECONDS))
            if now < ready:
                return Refusal(retry_after_seconds=int((ready - now).total_seconds()) + 1, locked=False)
        return None

    def check(self, username: str, client: str) -> Refusal | None:
        """A refusal when this name from this address, or this address at all, must wait; else None."""
        now = self._clock.now()
        refusals = [
            refusal for key, rule in ((self._pair_key(username, client), self._pair_rule),
                                      (self._client_key(client), self._client_rule))
            if (refusal := self._wait(self._recent(key, now), rule, now)) is not None
        ]
        if not refusals:
            return None
        return Refusal(retry_after_seconds=max(r.retry_after_seconds for r in refusals),
                       locked=any(r.locked for r in refusals))

    def record_failure(self, username: str, client: str) -> None:
        """Count one wrong password for this name from this address (and for the address)."""
        now = self._clock.now()
        for key in (self._pair_key(username, client), self._client_key(client)):
            times = self._failures.setdefault(key, deque())
            times.append(now)
            self._failures.move_to_end(key)
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)

    def record_success(self, username: str, client: str) -> None:
        """The owner got in: forget this name's failures from this address (not the address's own count,
        or anyone could wipe their address's record by logging in to an account of their own)."""
        self._failures.pop(self._pair_key(username, client), None)

    def failures(self, username: str, client: str) -> int:
        """How many failures of this name from this address count now (for monitoring and tests)."""
        return len(self._recent(self._pair_key(username, client), self._clock.now()))
