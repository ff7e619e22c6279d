"""One track a participant publishes, fanned out to its recipients as encoded frames or RTP packets."""

import logging
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from .aiortc_hook import ReceiverTap
from .forwarded_stream import ForwardedStream
from .forwarded_track import DEFAULT_MAX_QUEUED_FRAMES, ForwardedTrack
from .frame_sink import FrameSink, RecordedTrack
from .keyframe_requests import DEFAULT_MIN_INTERVAL, KeyframeRequester
from .media_labels import MediaLabel
from .rtp_rewrite import abs_send_time, is_vp8_keyframe, ntp_now, starts_vp8_keyframe

logger = logging.getLogger(__name__)

OutgoingTrack = ForwardedTrack | ForwardedStream
"""What a recipient's sender carries: frames (``forwarding="frames"``) or packets (``"packets"``)."""

__all__ = ["OutgoingTrack", "PublishedTrack", "is_vp8_keyframe"]


class PublishedTrack:
    """Receives a publisher's encoded frames from a :class:`ReceiverTap` and forwards them.

    Each frame becomes one ``av.Packet`` shared by every recipient: its ``pts`` is the
    publisher's RTP timestamp, counted from the first frame, in the codec clock
    (``time_base`` 1/90000 for VP8, 1/48000 for Opus); every recipient's sender adds its
    own random RTP timestamp origin, so frame spacing is preserved exactly.

    When the tap forwards packets (``tap.packets``), each RTP packet instead goes to every
    recipient's :class:`ForwardedStream`, rewritten for them; frames are then assembled only
    while the track is recorded.
    """

    def __init__(
        self,
        publisher_id: str,
        label: MediaLabel,
        mid: str,
        tap: ReceiverTap,
        *,
        keyframe_interval: float = DEFAULT_MIN_INTERVAL,
        max_queued_frames: int = DEFAULT_MAX_QUEUED_FRAMES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.publisher_id = publisher_id
        self.label = label
        self.mid = mid
        self.kind = tap.kind
        self._tap = tap
        self._max_queued = max_queued_frames
        self._subscribers: dict[str, OutgoingTrack] = {}
        self._recipients: tuple[ForwardedTrack, ...] = ()
        self._streams: tuple[ForwardedStream, ...] = ()
        self._packet_tap = tap.packets
        self._time_base: Fraction | None = None
        self._keyframes = KeyframeRequester(
            tap.send_picture_loss, self._keyframe_wanted, min_interval=keyframe_interval, clock=clock
        )
        self._closed = False
        self._gaps_skipped = 0
        self.frames_received = 0
        self.keyframes_received = 0
        self.recorded_as = RecordedTrack(publisher_id, label, tap.kind)
        self._sink: FrameSink | None = None
        tap.on_frame = self._on_frame
        if self._packet_tap is not None:
            self._packet_tap.on_packet = self._on_packet

    @property
    def keyframe_requests_sent(self) -> int:
        """PLIs sent to the publisher for this track."""
        return self._keyframes.sent

    @property
    def recipients(self) -> dict[str, OutgoingTrack]:
        """Forwarded tracks by recipient participant id (a copy)."""
        return dict(self._subscribers)

    def attach(self, recipient_id: str) -> OutgoingTrack:
        """Start forwarding to a recipient; a video recipient gets a keyframe requested."""
        existing = self._subscribers.get(recipient_id)
        if existing is not None:
            return existing
        track: OutgoingTrack
        if self._packet_tap is not None:
            track = ForwardedStream(self.kind, self.publisher_id, self.label, self.request_keyframe)
        else:
            track = ForwardedTrack(
                self.kind,
                self.publisher_id,
                self.label,
                self.request_keyframe,
                max_queued_frames=self._max_queued,
            )
        self._subscribers[recipient_id] = track
        self._split_recipients()
        self.request_keyframe()
        return track

    def _split_recipients(self) -> None:
        tracks = self._subscribers.values()
        self._recipients = tuple(t for t in tracks if isinstance(t, ForwardedTrack))
        self._streams = tuple(t for t in tracks if isinstance(t, ForwardedStream))

    @property
    def recording(self) -> bool:
        return self._sink is not None

    def record_to(self, sink: FrameSink | None) -> None:
        """Hand every frame to ``sink`` as well (``None``: stop).

        Called on every change of what is recorded: a video track is asked for a keyframe each time,
        since the recorder may have begun a new file, which starts on one.
        """
        self._sink = sink
        if self._packet_tap is not None:
            self._packet_tap.want_frames(sink is not None)
        if sink is not None:
            self.request_keyframe()

    def detach(self, recipient_id: str) -> None:
        """Stop forwarding to a recipient and end their track."""
        track = self._subscribers.pop(recipient_id, None)
        self._split_recipients()
        if track is not None:
            track.stop()

    def request_keyframe(self, explicit: bool = True) -> None:
        """Ask the publisher for a keyframe, rate-limited; no-op for audio. Never raises."""
        if self.kind == "video" and not self._closed:
            self._keyframes.request(explicit)

    def _keyframe_wanted(self) -> bool:
        sink = self._sink
        if sink is not None and sink.wants_keyframe(self.recorded_as):
            return True
        return any(track.wants_keyframe for track in self._subscribers.values())

    def _on_packet(self, packet: Any) -> None:
        # Hot path: runs once per received RTP packet inside aiortc's RTP handling.
        starts_keyframe = False
        if self.kind == "video":
            starts_keyframe = starts_vp8_keyframe(packet.payload, packet._data)
            if starts_keyframe:
                self.keyframes_received += 1
            if packet.marker:
                self.frames_received += 1
        else:
            self.frames_received += 1
        streams = self._streams
        if not streams:
            return
        ntp_time = ntp_now()
        send_time = abs_send_time(ntp_time)
        waiting = False
        for stream in streams:
            stream.forward(packet, starts_keyframe, send_time, ntp_time)
            waiting = waiting or stream.wants_keyframe
        if waiting and not starts_keyframe:
            self.request_keyframe(explicit=False)

    def _on_frame(self, codec: RTCRtpCodecParameters, frame: JitterFrame) -> None:
        # Hot path: runs once per received frame inside aiortc's RTP handling.
        data = frame.data
        is_keyframe = self.kind == "video" and is_vp8_keyframe(data)
        if self._packet_tap is None:  # the packet path counts the packets themselves
            self.frames_received += 1
            if is_keyframe:
                self.keyframes_received += 1
        sink = self._sink
        if sink is not None:
            try:
                sink.frame(self.recorded_as, data, frame.timestamp, is_keyframe)
                if self.kind == "video" and not is_keyframe and sink.wants_keyframe(self.recorded_as):
                    self.request_keyframe(explicit=False)  # our first request may have been lost
            except Exception:  # a recorder must never break forwarding (nor aiortc's RTP handling)
                logger.exception("the recorder failed on a frame of %s", self.publisher_id)
        recipients = self._recipients
        if not recipients:
            return
        gaps = self._tap.assembler.gaps_skipped
        if gaps != self._gaps_skipped:  # the assembler gave a lost packet up: resume on a keyframe
            self._gaps_skipped = gaps
            for track in recipients:
                track.resync()
        time_base = self._time_base
        if time_base is None:
            time_base = self._time_base = Fraction(1, codec.clockRate)
        packet = av.Packet(data)
        packet.pts = frame.timestamp
        packet.time_base = time_base
        waiting = False
        for track in recipients:
            track.push(packet, is_keyframe)
            waiting = waiting or track.wants_keyframe
        if waiting and not is_keyframe:
            self.request_keyframe(explicit=False)

    async def close(self) -> None:
        """Stop forwarding, end every recipient's track. Idempotent."""
        self._closed = True
        self._sink = None
        self._tap.on_frame = None
        if self._packet_tap is not None:
            self._packet_tap.on_packet = None
            self._packet_tap.want_frames(False)
        for recipient_id in list(self._subscribers):
            self.detach(recipient_id)
        await self._keyframes.close()
