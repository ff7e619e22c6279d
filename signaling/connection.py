"""One participant's WebSocket as a ``Link``: a bounded send queue drained by one writer task.

Delivering never blocks the room: a message is put on the queue and the writer sends it. A client that
cannot keep up (the queue is full) is disconnected rather than buffered without bound; its seat stays
for the grace period and it can resume.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSCloseCode, web

from rooms.live import LiveEvent
from rooms.seats import JoinResult
from signaling.events import join_reply, live_event_messages
from signaling.outbound import IceServer, OutboundMessage

log = logging.getLogger(__name__)

SEND_QUEUE_SIZE = 256
SEND_TIMEOUT = 10.0
"""Seconds one frame may take to leave; longer means the client's TCP window is stuck."""

_CLOSE_CODES = {
    "replaced": 4001,
    "released": WSCloseCode.OK,
    "ended": WSCloseCode.OK,
    "too_slow": WSCloseCode.TRY_AGAIN_LATER,
    "abuse": WSCloseCode.POLICY_VIOLATION,
    "shutdown": WSCloseCode.GOING_AWAY,
}


class Connection:
    """The server end of one signaling WebSocket."""

    def __init__(self, ws: web.WebSocketResponse, *, ice_servers: tuple[IceServer, ...] = (),
                 queue_size: int = SEND_QUEUE_SIZE) -> None:
        self.ws = ws
        self.ice_servers = ice_servers
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=queue_size)
        self._close_code: int = WSCloseCode.OK
        self._closing = False
        self.dropped = 0

    @property
    def closing(self) -> bool:
        return self._closing

    def send(self, message: OutboundMessage) -> None:
        """Queue one frame; a full queue closes the connection (the client is too slow)."""
        if self._closing:
            return
        try:
            self._queue.put_nowait(message.to_json())
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("signaling client too slow; closing its socket")
            self._abort("too_slow")

    def joined(self, result: JoinResult, *, resumed: bool) -> None:
        for message in join_reply(result, resumed=resumed, ice_servers=self.ice_servers):
            self.send(message)

    def deliver(self, event: LiveEvent) -> None:
        for message in live_event_messages(event, ice_servers=self.ice_servers):
            self.send(message)

    def close(self, reason: str) -> None:
        """Close after the frames already queued are sent."""
        if self._closing:
            return
        self._closing = True
        self._close_code = _CLOSE_CODES.get(reason, WSCloseCode.OK)
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:
            self._abort(reason)

    def _abort(self, reason: str) -> None:
        # Drop what is queued: the close frame must get through even when the queue is full.
        self._closing = True
        self._close_code = _CLOSE_CODES.get(reason, WSCloseCode.OK)
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def run_writer(self) -> None:
        """Send queued frames until closed; then close the socket with the chosen code."""
        try:
            while True:
                frame = await self._queue.get()
                if frame is None:
                    break
                if self.ws.closed:
                    return
                async with asyncio.timeout(SEND_TIMEOUT):
                    await self.ws.send_str(frame)
        except (ConnectionError, TimeoutError, RuntimeError) as exc:
            # RuntimeError: aiohttp refuses writes to a socket closing underneath us
            log.info("signaling socket write failed: %s", exc)
        finally:
            self._closing = True
            if not self.ws.closed:
                await self.ws.close(code=self._close_code)
