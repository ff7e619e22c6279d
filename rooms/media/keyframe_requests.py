"""Rate-limited keyframe requests towards one publisher."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

DEFAULT_MIN_INTERVAL = 0.3  # seconds; a keyframe costs the publisher ~10x a delta frame


class KeyframeRequester:
    """Sends a keyframe request at most once per ``min_interval``.

    A request that falls inside the interval is not lost: one trailing request is sent when
    the interval ends, if ``still_needed()`` then says a recipient is still waiting.
    :meth:`request` never raises, so it is safe to call from aiortc's RTCP handling.
    """

    def __init__(
        self,
        send: Callable[[], Awaitable[bool]],
        still_needed: Callable[[], bool],
        min_interval: float = DEFAULT_MIN_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._still_needed = still_needed
        self._min_interval = min_interval
        self._clock = clock
        self._last_sent_at: float | None = None
        self._trailing: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[bool]] = set()
        self._closed = False
        self._explicit_pending = False
        self.sent = 0

    def request(self, explicit: bool = True) -> None:
        """Ask for a keyframe now, or at the end of the current rate-limit interval.

        A suppressed ``explicit`` request (a recipient's PLI, a new recipient) is always sent
        when the interval ends; a suppressed implicit one only if ``still_needed()``.
        """
        try:
            if self._closed:
                return
            now = self._clock()
            if self._last_sent_at is None or now - self._last_sent_at >= self._min_interval:
                self._fire(now)
                return
            self._explicit_pending = self._explicit_pending or explicit
            if self._trailing is None:
                delay = self._min_interval - (now - self._last_sent_at)
                self._trailing = asyncio.get_running_loop().call_later(delay, self._fire_trailing)
        except Exception:
            logger.exception("scheduling a keyframe request failed")

    def _fire_trailing(self) -> None:
        self._trailing = None
        try:
            explicit, self._explicit_pending = self._explicit_pending, False
            if not self._closed and (explicit or self._still_needed()):
                self._fire(self._clock())
        except Exception:
            logger.exception("sending a trailing keyframe request failed")

    def _fire(self, now: float) -> None:
        self._last_sent_at = now
        self._explicit_pending = False
        self.sent += 1
        task = asyncio.ensure_future(self._send())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel the trailing request and wait for requests in flight. Idempotent."""
        self._closed = True
        if self._trailing is not None:
            self._trailing.cancel()
            self._trailing = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
