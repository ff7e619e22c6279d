"""One publisher track delivered to one recipient as rewritten RTP packets (packet forwarding).

The packet counterpart of :class:`~rooms.media.forwarded_track.ForwardedTrack`: nothing is
queued or re-packetized. Each packet the publisher's receiver hands over is rewritten for the
recipient (:mod:`.rtp_rewrite`) and sent at once through the recipient's sender
(:class:`~rooms.media.aiortc_hook.RtpOutlet`).

The recipient sees one clean stream of its own: sequence numbers continue without a gap
whenever forwarding (re)starts, and timestamps keep the publisher's spacing from a random
origin. A video recipient starts, and restarts after packets had to be dropped, at the first
packet of a VP8 key frame. Sent video packets are kept in a small ring so that the recipient's
NACKs are answered by retransmission (on the RTX stream when negotiated).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from .aiortc_hook import RtpOutlet
from .media_labels import MediaLabel
from .rtp_rewrite import RtpHeaderWriter, abs_send_time, as_rtx, ntp_now

RETRANSMISSION_CACHE = 256
"""Sent video packets kept per recipient for NACKs: 2-4 s of 640x480 video, many round trips."""

_HALF = 0x8000


class ForwardedStream(MediaStreamTrack):
    """A recipient's copy of one published track, forwarded packet by packet.

    It is the track of the recipient's ``RTCRtpSender`` only so that aiortc negotiates and starts
    that sender; :meth:`recv` never yields a frame (the sender's RTP loop waits until the stream
    ends). :meth:`bind` connects it to the sender once the transceiver exists.
    """

    def __init__(
        self,
        kind: str,
        publisher_id: str,
        label: MediaLabel,
        on_keyframe_needed: Callable[[], None],
        cache_size: int = RETRANSMISSION_CACHE,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.publisher_id = publisher_id
        self.label = label
        self._on_keyframe_needed = on_keyframe_needed
        self._video = kind == "video"
        self._outlet: RtpOutlet | None = None
        self._writer: RtpHeaderWriter | None = None
        self._needs_keyframe = self._video
        self._running = False  # forwarding a run of packets with fixed offsets
        self._seq_offset = 0
        self._next_seq = random.getrandbits(16) % _HALF  # low half: no early SRTP rollover (as aiortc)
        self._highest_seq = 0
        self._run_span = 0  # how far the run reaches back from _highest_seq (for late packets)
        self._source_ssrc: int | None = None
        self._ts_offset = 0
        self._last_ts = 0
        self._last_sent_ntp = 0
        self._rtx_seq = random.getrandbits(16) % _HALF
        self._cache_size = cache_size if self._video else 0
        # (sequence number, timestamp, marker, payload) as sent: the payload is the publisher's, shared by
        # every recipient's ring, so a ring costs little more than the one copy of the packets.
        self._cache: list[tuple[int, int, int, bytes] | None] = [None] * self._cache_size
        self._ended: asyncio.Future[None] | None = None
        self.packets_forwarded = 0
        self.packets_dropped = 0
        self.frames_forwarded = 0
        self.frames_dropped = 0
        self.retransmissions = 0

    @property
    def waiting_for_keyframe(self) -> bool:
        """True while video packets are skipped until the next key frame."""
        return self._needs_keyframe

    @property
    def wants_keyframe(self) -> bool:
        """Waiting for a key frame while the recipient's sender runs: a key frame is of use now."""
        outlet = self._outlet
        return self._needs_keyframe and outlet is not None and outlet.ready

    @property
    def queued_frames(self) -> int:
        """Always 0: packets are sent as they come, never queued here."""
        return 0

    def bind(self, outlet: RtpOutlet) -> None:
        """Send through this recipient sender's outlet once aiortc starts the sender."""
        self._outlet = outlet
        outlet.on_ready = self._on_ready
        outlet.on_nack = self._retransmit
        if outlet.ready:
            self._on_ready()

    def _on_ready(self) -> None:
        outlet = self._outlet
        assert outlet is not None
        self._writer = RtpHeaderWriter(
            outlet.ssrc, outlet.payload_type, outlet.mid, outlet.mid_id, outlet.abs_send_time_id
        )
        if self._needs_keyframe:
            self._on_keyframe_needed()

    def forward(self, packet: Any, starts_keyframe: bool, send_time: bytes, ntp_time: int) -> None:
        """Rewrite one of the publisher's RTP packets for the recipient and send it. Never raises
        for a packet that cannot go: it is counted as dropped (hot path: once per packet and recipient).

        :param packet: aiortc's parsed ``RtpPacket`` (RTX already unwrapped).
        :param starts_keyframe: the packet is the first of a VP8 key frame.
        :param send_time: the abs-send-time value; ``ntp_time`` the same instant for sender reports.
        """
        writer = self._writer
        outlet = self._outlet
        if writer is None or outlet is None or not outlet.ready:  # stop() un-readies the outlet
            self._drop(packet)
            return
        seq = packet.sequence_number
        if packet.ssrc != self._source_ssrc:
            self._new_source(packet.ssrc, packet.timestamp, outlet.clock_rate, ntp_time)
        if not self._running:
            if self._needs_keyframe and not starts_keyframe:
                self._drop(packet)
                return
            self._needs_keyframe = False
            self._running = True
            self._seq_offset = (self._next_seq - seq) & 0xFFFF
            self._highest_seq = seq
            self._run_span = 0
        else:
            ahead = (seq - self._highest_seq) & 0xFFFF
            if ahead < _HALF:
                self._highest_seq = seq
                self._run_span = min(self._run_span + ahead, _HALF - 1)
            elif (self._highest_seq - seq) & 0xFFFF > self._run_span:
                self._drop(packet)  # from before this run started: the recipient never expects it
                return
        out_seq = (seq + self._seq_offset) & 0xFFFF
        out_ts = (packet.timestamp + self._ts_offset) & 0xFFFFFFFF
        payload = packet.payload
        data = writer.write(packet.marker, out_seq, out_ts, send_time, payload, packet.padding_size)
        if not outlet.send(data):
            self._drop(packet)
            if self._video:
                # Resume at a key frame, with sequence numbers continuing from the last one sent.
                self._running = False
                if not self._needs_keyframe:
                    self._needs_keyframe = True
                    self._on_keyframe_needed()
            return
        outlet.count_sent(ntp_time, out_ts, len(payload))
        if seq == self._highest_seq:
            self._next_seq = (out_seq + 1) & 0xFFFF
            self._last_ts = out_ts
            self._last_sent_ntp = ntp_time
        if self._cache_size and not packet.padding_size:
            self._cache[out_seq % self._cache_size] = (out_seq, out_ts, packet.marker, payload)
        self.packets_forwarded += 1
        if packet.marker or not self._video:
            self.frames_forwarded += 1

    def _new_source(self, ssrc: int, timestamp: int, clock_rate: int, ntp_time: int) -> None:
        """The publisher's stream (re)starts: keep the recipient's timestamps moving with real time."""
        if self._source_ssrc is None:
            start = random.getrandbits(32)
        else:
            elapsed = max((ntp_time - self._last_sent_ntp) / 4294967296.0, 0.001)
            start = (self._last_ts + int(elapsed * clock_rate)) & 0xFFFFFFFF
            self._running = False
        self._source_ssrc = ssrc
        self._ts_offset = (start - timestamp) & 0xFFFFFFFF

    def _drop(self, packet: Any) -> None:
        self.packets_dropped += 1
        if packet.marker or not self._video:
            self.frames_dropped += 1

    def _retransmit(self, sequence_number: int) -> None:
        """The recipient NACKed a packet: send it again if it is still in the ring."""
        if not self._cache_size:
            return
        entry = self._cache[sequence_number % self._cache_size]
        outlet = self._outlet
        writer = self._writer
        if entry is None or entry[0] != sequence_number or outlet is None or writer is None:
            return
        _, timestamp, marker, payload = entry
        data = writer.write(marker, sequence_number, timestamp, abs_send_time(ntp_now()), payload)
        if outlet.rtx_payload_type is not None:
            data = as_rtx(data, outlet.rtx_payload_type, self._rtx_seq, outlet.rtx_ssrc)
            self._rtx_seq = (self._rtx_seq + 1) & 0xFFFF
        if outlet.send(data):
            self.retransmissions += 1

    def resync(self) -> None:
        """Nothing to do: a recipient recovers a lost packet by NACK, then by PLI, on its own."""

    def request_keyframe(self) -> None:
        """The recipient reported picture loss (PLI/FIR): ask the publisher for a key frame."""
        self._on_keyframe_needed()

    async def recv(self) -> Any:
        """Wait until the stream ends (the sender's RTP loop then stops); nothing is ever yielded."""
        if self.readyState == "live":
            if self._ended is None:
                self._ended = asyncio.get_running_loop().create_future()
            await self._ended
        raise MediaStreamError

    def stop(self) -> None:
        """End the stream: nothing more is sent and the sender's RTP loop stops. Idempotent."""
        super().stop()
        if self._outlet is not None:
            self._outlet.stop()
        self._cache = [None] * self._cache_size
        ended = self._ended
        if ended is not None and not ended.done():
            ended.set_result(None)
