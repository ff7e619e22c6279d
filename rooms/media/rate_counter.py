"""A drop-in for aiortc's ``RateCounter`` (``aiortc.rate``) that gives the same answers for less work.

aiortc's receive-side bitrate estimator (the REMB it sends the publisher) counts incoming bytes in a
1-second window of one-millisecond buckets: every packet walks the buckets of each millisecond since
the previous packet, and after a pause in the stream it rebuilds all 1,000 bucket objects. Profiled at
full load in a media worker, the estimator was 10-30 % of the server's CPU. This one keeps the packets
of the window in a deque instead: the work per packet is constant.

It answers exactly as aiortc's does while time does not go backwards (a property test compares the
two); aiortc stamps packets with the wall clock, and after a backwards step this one counts the packet
at the window's start instead of aiortc's wrapped bucket, a difference of one packet for one window.
"""

from __future__ import annotations

from collections import deque


class WindowRateCounter:
    """Bytes received in the last ``window_size`` milliseconds, as a rate (``scale`` 8000: bits/s)."""

    def __init__(self, window_size: int, scale: int = 8000) -> None:
        self._window_size = window_size
        self._scale = scale
        self.reset()

    def reset(self) -> None:
        self._entries: deque[tuple[int, int]] = deque()
        self._origin_ms: int | None = None
        self._count = 0
        self._value = 0

    def add(self, value: int, now_ms: int) -> None:
        if self._origin_ms is None:
            self._origin_ms = now_ms
        else:
            self._erase_old(now_ms)
        self._entries.append((max(now_ms, self._origin_ms), value))
        self._count += 1
        self._value += value

    def rate(self, now_ms: int) -> int | None:
        if self._origin_ms is not None:
            self._erase_old(now_ms)
            active_window_size = now_ms - self._origin_ms + 1
            if self._count > 0 and active_window_size > 1:
                return round(self._scale * self._value / active_window_size)
        return None

    def _erase_old(self, now_ms: int) -> None:
        assert self._origin_ms is not None
        new_origin_ms = now_ms - self._window_size + 1
        if self._origin_ms >= new_origin_ms:
            return
        entries = self._entries
        while entries and entries[0][0] < new_origin_ms:
            _, value = entries.popleft()
            self._count -= 1
            self._value -= value
        self._origin_ms = new_origin_ms
