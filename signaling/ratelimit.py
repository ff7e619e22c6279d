"""The per-connection message rate limit of the signaling socket."""

from __future__ import annotations

from collections.abc import Callable

MESSAGE_RATE = 20.0
"""Inbound messages per second per connection, sustained."""
MESSAGE_BURST = 40.0
"""Inbound messages a connection may send at once (renegotiation sends a few in a row)."""


class TokenBucket:
    """Per-connection message rate limit: ``rate`` tokens per second, at most ``burst`` saved up.

    ``clock`` returns monotonic seconds (``time.monotonic`` in production, a fake in tests).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        rate: float = MESSAGE_RATE,
        burst: float = MESSAGE_BURST,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._clock = clock
        self._rate = rate
        self._burst = burst
        self._tokens = burst
        self._last = clock()

    def try_take(self, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens if there are enough; False means refuse (or drop) this message."""
        now = self._clock()
        # max(0, ...) so a clock that steps back never drains the bucket
        self._tokens = min(self._burst, self._tokens + max(0.0, now - self._last) * self._rate)
        self._last = now
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False

    @property
    def tokens(self) -> float:
        return self._tokens
