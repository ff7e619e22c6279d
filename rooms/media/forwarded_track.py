"""The track a recipient's sender reads: encoded frames of one publisher's track, bounded."""

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from .media_labels import MediaLabel

if TYPE_CHECKING:
    EncodedPacket = av.Packet[Any]
else:
    EncodedPacket = av.Packet

DEFAULT_MAX_QUEUED_FRAMES = 8  # ~270 ms of video at 30 fps, 160 ms of 20 ms Opus frames


class ForwardedTrack(MediaStreamTrack):
    """Yields ``av.Packet`` objects, so aiortc's sender packetizes them without encoding.

    The queue is bounded: when the recipient's sender falls behind, video is dropped up to
    the next keyframe (a decoder cannot use delta frames after a gap) and a keyframe is
    requested; audio drops its oldest frame. A new video recipient also waits for a keyframe.
    """

    def __init__(
        self,
        kind: str,
        publisher_id: str,
        label: MediaLabel,
        on_keyframe_needed: Callable[[], None],
        max_queued_frames: int = DEFAULT_MAX_QUEUED_FRAMES,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.publisher_id = publisher_id
        self.label = label
        self._on_keyframe_needed = on_keyframe_needed
        self._max_queued = max_queued_frames
        self._queue: deque[EncodedPacket] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._needs_keyframe = kind == "video"
        self._reading = False
        self.frames_forwarded = 0
        self.frames_dropped = 0

    @property
    def waiting_for_keyframe(self) -> bool:
        """True while video frames are skipped until the next keyframe."""
        return self._needs_keyframe

    @property
    def wants_keyframe(self) -> bool:
        """Waiting for a keyframe, and the recipient's sender is reading: a keyframe is of use now.

        Before the sender starts (the recipient's transport is still connecting) frames only pile up
        and are dropped, so the publisher is not asked again on every frame; the sender's first read
        asks for a keyframe.
        """
        return self._needs_keyframe and self._reading

    @property
    def queued_frames(self) -> int:
        """Frames waiting for the recipient's sender."""
        return len(self._queue)

    def push(self, packet: EncodedPacket, is_keyframe: bool) -> None:
        """Offer one encoded frame; never blocks and never grows the queue past its bound."""
        if self.readyState != "live":
            return
        if self._needs_keyframe:
            if not is_keyframe:
                self.frames_dropped += 1
                return
            self._needs_keyframe = False
        if len(self._queue) >= self._max_queued:
            if self.kind == "video":
                self.frames_dropped += len(self._queue)
                self._queue.clear()
                if not is_keyframe:
                    self.frames_dropped += 1
                    self._needs_keyframe = True
                    self._on_keyframe_needed()
                    return
            else:
                self._queue.popleft()
                self.frames_dropped += 1
        self._queue.append(packet)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def resync(self) -> None:
        """The publisher's stream lost a frame for good: skip what follows up to the next keyframe.

        The frames after the loss may refer to the lost one, and a decoder given them shows a broken
        picture; the publisher has been asked for a keyframe already.
        """
        if self.kind == "video":
            self._needs_keyframe = True

    def request_keyframe(self) -> None:
        """The recipient reported picture loss (PLI/FIR): ask the publisher for a keyframe."""
        self._on_keyframe_needed()

    async def recv(self) -> EncodedPacket:
        """Next encoded frame for the recipient's sender."""
        if not self._reading:
            self._reading = True
            if self._needs_keyframe and not self._queue:
                self._on_keyframe_needed()
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        self.frames_forwarded += 1
        return self._queue.popleft()

    def stop(self) -> None:
        """End the track; the sender reading it stops. Idempotent."""
        super().stop()
        self._queue.clear()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
