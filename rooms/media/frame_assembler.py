"""Frame assembly for forwarding: release each encoded frame as soon as it is complete.

aiortc's own :class:`JitterBuffer` is built for a local decoder: it hands out a video frame
only when the first packet of the *next* frame arrives (one frame interval, 33 ms at
30 fps, of added latency) and holds four audio packets back (80 ms). A forwarding server
needs neither: the recipient's own jitter buffer smooths playout. These subclasses keep
aiortc's reordering, overflow and picture-loss logic and only release frames earlier.

aiortc's buffer also waits for a lost video packet until 512 packets have piled up behind
it (about 8 s of video, a frozen picture for every recipient). A forwarding server gives up
after ``GAP_TIMEOUT``: it skips to the next whole frame and asks for a keyframe.
"""

import time
from collections.abc import Callable
from typing import Any

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.utils import uint16_gt

VIDEO_CAPACITY = 512  # same as aiortc's receiver, so NACK recovery keeps working
AUDIO_CAPACITY = 16
GAP_TIMEOUT = 0.25
"""Seconds a missing video packet is waited for (its NACKed retransmission) before it is given up."""


class LowLatencyVideoAssembler(JitterBuffer):
    """Video frames leave as soon as the packet carrying the RTP marker bit is in.

    The marker bit flags the last packet of a video frame (RFC 7741 section 4.1), so a
    contiguous run of packets with one timestamp ending in a marker is a whole frame.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(capacity=VIDEO_CAPACITY, is_video=True)
        self.last_ssrc: int | None = None
        self.gaps_skipped = 0
        self._clock = clock
        self._stuck_since: float | None = None

    def add(self, packet: Any) -> tuple[bool, JitterFrame | None]:
        self.last_ssrc = packet.ssrc
        pli_flag, frame = super().add(packet)
        if frame is None:
            frame = self._release_complete_frame()
        if frame is not None:
            self._stuck_since = None
            return pli_flag, frame
        now = self._clock()
        if self._stuck_since is None:
            self._stuck_since = now
        elif now - self._stuck_since >= GAP_TIMEOUT and self._skip_past_gap():
            # The frames after the gap may refer to the lost one: the publisher is asked for a
            # keyframe (aiortc sends a PLI on the flag) so recipients see a clean picture again.
            self._stuck_since = None
            self.gaps_skipped += 1
            return True, self._release_complete_frame()
        return pli_flag, None

    def _skip_past_gap(self) -> bool:
        """Drop everything before the first whole frame that starts after a gap; False if none has yet."""
        if self._origin is None:
            return False
        gap_seen = False
        previous: Any = None
        for count in range(self._capacity):
            packet = self._packets[(self._origin + count) % self._capacity]
            if packet is None:
                gap_seen = True
            elif gap_seen and previous is not None and previous.timestamp != packet.timestamp:
                # ``packet`` follows a received packet of another frame: it is the first of its frame.
                self.remove(count)
                return True
            previous = packet
        return False

    def _release_complete_frame(self) -> JitterFrame | None:
        if self._origin is None:
            return None
        packets: list[Any] = []
        timestamp: int | None = None
        for count in range(self._capacity):
            packet = self._packets[(self._origin + count) % self._capacity]
            if packet is None:
                return None  # a gap: wait for the retransmission aiortc NACKs for
            if timestamp is None:
                timestamp = packet.timestamp
            elif packet.timestamp != timestamp:
                return None  # frame without marker: aiortc's own rule releases it
            packets.append(packet)
            if packet.marker:
                self.remove(count + 1)
                return JitterFrame(data=b"".join(p._data for p in packets), timestamp=timestamp)
        return None


class PassThroughAudioAssembler(JitterBuffer):
    """Every Opus RTP packet is one whole frame: forward it at once, drop late duplicates."""

    def __init__(self) -> None:
        super().__init__(capacity=AUDIO_CAPACITY)
        self.last_ssrc: int | None = None
        self.gaps_skipped = 0  # audio never waits for a lost packet, so never skips one
        self._last_sequence: int | None = None

    def add(self, packet: Any) -> tuple[bool, JitterFrame | None]:
        self.last_ssrc = packet.ssrc
        sequence = packet.sequence_number
        if self._last_sequence is not None and not uint16_gt(sequence, self._last_sequence):
            return False, None
        self._last_sequence = sequence
        return False, JitterFrame(data=packet._data, timestamp=packet.timestamp)
