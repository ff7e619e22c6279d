"""Frame assembly for forwarding: release each encoded frame as soon as it is complete.

aiortc's own :class:`JitterBuffer` is built for a local decoder: it hands out a video frame
only when the first packet of the *next* frame arrives (one frame interval, 33 ms at
30 fps, of added latency) and holds four audio packets back (80 ms). A forwarding server
needs neither: the recipient's own jitter buffer smooths playout. These subclasses keep
aiortc's reordering, overflow and picture-loss logic and only release frames earlier.
"""

from typing import Any

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.utils import uint16_gt

VIDEO_CAPACITY = 512  # same as aiortc's receiver, so NACK recovery keeps working
AUDIO_CAPACITY = 16


class LowLatencyVideoAssembler(JitterBuffer):
    """Video frames leave as soon as the packet carrying the RTP marker bit is in.

    The marker bit flags the last packet of a video frame (RFC 7741 section 4.1), so a
    contiguous run of packets with one timestamp ending in a marker is a whole frame.
    """

    def __init__(self) -> None:
        super().__init__(capacity=VIDEO_CAPACITY, is_video=True)
        self.last_ssrc: int | None = None

    def add(self, packet: Any) -> tuple[bool, JitterFrame | None]:
        self.last_ssrc = packet.ssrc
        pli_flag, frame = super().add(packet)
        if frame is None:
            frame = self._release_complete_frame()
        return pli_flag, frame

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
        self._last_sequence: int | None = None

    def add(self, packet: Any) -> tuple[bool, JitterFrame | None]:
        self.last_ssrc = packet.ssrc
        sequence = packet.sequence_number
        if self._last_sequence is not None and not uint16_gt(sequence, self._last_sequence):
            return False, None
        self._last_sequence = sequence
        return False, JitterFrame(data=packet._data, timestamp=packet.timestamp)
