"""In-process aiortc clients talking to a MediaRouter over loopback, for the media tests."""

import asyncio
import fractions
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiortc import (
    AudioStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
    rtcrtpreceiver,
    rtcrtpsender,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from rooms.media import MediaRouter


def loopback_pc() -> RTCPeerConnection:
    # No STUN: never the library's public default, and loopback needs none.
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


class SyntheticVideo(VideoStreamTrack):
    """Small frames whose brightness changes, so the encoder has something to code."""

    def __init__(self, width: int = 160, height: int = 120) -> None:
        super().__init__()
        self._width = width
        self._height = height
        self._count = 0

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=self._width, height=self._height)
        self._count += 1
        for index, plane in enumerate(frame.planes):
            value = (self._count * 7 + index * 60) % 256
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts = pts
        frame.time_base = fractions.Fraction(time_base.numerator, time_base.denominator)
        return frame


class LoopbackClient:
    """A participant's browser stand-in: publishes synthetic audio+video, decodes what it gets."""

    def __init__(self, participant_id: str, router: MediaRouter) -> None:
        self.participant_id = participant_id
        self.router = router
        self.pc = loopback_pc()
        self.server_pc = loopback_pc()
        self.frames_by_mid: Counter[str] = Counter()
        self._consumers: list[asyncio.Task[None]] = []
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        mid = next(t.mid for t in self.pc.getTransceivers() if t.receiver.track is track)
        assert mid is not None
        self._consumers.append(asyncio.ensure_future(self._consume(mid, track)))

    async def _consume(self, mid: str, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()  # a decoded frame: the client side does decode
                self.frames_by_mid[mid] += 1
        except MediaStreamError:
            pass

    async def join(self, publish: bool = True) -> None:
        self.router.add_participant(self.participant_id, self.server_pc)
        labels: dict[str, Any] = {}
        if publish:
            self.pc.addTransceiver(SyntheticVideo(), direction="sendonly")
            self.pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        else:
            # A viewer offers receive-only m-lines, as a browser does; (an offer with only a
            # data channel first and media added later does not carry RTP in aiortc 1.16).
            self.pc.addTransceiver("video", direction="recvonly")
            self.pc.addTransceiver("audio", direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        for transceiver in self.pc.getTransceivers():
            assert transceiver.mid is not None
            if publish:
                labels[transceiver.mid] = (
                    "room_camera" if transceiver.kind == "video" else "audio"
                )
        answer = await self.router.handle_offer(self.participant_id, self.pc.localDescription.sdp, labels)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def sync(self) -> None:
        """Play the signaling layer: answer server offers until nothing is pending."""
        while self.router.needs_renegotiation(self.participant_id):
            offer = await self.router.create_offer(self.participant_id)
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await self.router.handle_answer(self.participant_id, self.pc.localDescription.sdp)

    def frames_from(self, publisher_id: str, kind: str) -> int:
        return sum(
            self.frames_by_mid[info.mid]
            for info in self.router.outgoing_tracks(self.participant_id)
            if info.publisher_id == publisher_id and info.kind == kind
        )

    async def close(self) -> None:
        await self.pc.close()
        for task in self._consumers:
            task.cancel()
        await asyncio.gather(*self._consumers, return_exceptions=True)


SAFETY_TIMEOUT = 20.0  # only so a broken test still stops; never a performance assertion


async def wait_until(predicate: Callable[[], bool], what: str) -> None:
    """Poll a condition that media flowing will make true (frames are counted, not signalled)."""
    async with asyncio.timeout(SAFETY_TIMEOUT):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert predicate(), what


class CodecUsage:
    """Records every decoder and encoder aiortc creates, and for which receiver or sender."""

    def __init__(self) -> None:
        self.decoder_queues: list[object] = []  # the output queue of each decoder thread
        self.encoding_senders: list[object] = []  # one entry per encode() call

    def decoded_into(self, track: MediaStreamTrack) -> int:
        queue = getattr(track, "_queue", None)
        return sum(1 for q in self.decoder_queues if q is queue)

    def encodes_by(self, sender: object) -> int:
        return sum(1 for s in self.encoding_senders if s is sender)


@contextmanager
def count_codec_usage(monkeypatch: pytest.MonkeyPatch) -> Iterator[CodecUsage]:
    usage = CodecUsage()
    real_get_decoder = rtcrtpreceiver.get_decoder
    real_get_encoder = rtcrtpsender.get_encoder

    def counting_get_decoder(codec: Any) -> Any:
        # Called from aiortc's decoder_worker, whose local `output_q` is the track's queue.
        usage.decoder_queues.append(sys._getframe(1).f_locals.get("output_q"))
        return real_get_decoder(codec)

    def counting_get_encoder(codec: Any) -> Any:
        sender = sys._getframe(1).f_locals.get("self")  # the RTCRtpSender asking
        encoder = real_get_encoder(codec)
        real_encode = encoder.encode

        def encode(frame: Any, force_keyframe: bool = False) -> Any:
            usage.encoding_senders.append(sender)
            return real_encode(frame, force_keyframe)

        encoder.encode = encode
        return encoder

    monkeypatch.setattr(rtcrtpreceiver, "get_decoder", counting_get_decoder)
    monkeypatch.setattr(rtcrtpsender, "get_encoder", counting_get_encoder)
    yield usage


async def assert_no_task_left(what: str) -> None:
    """Fail if any task but the caller's is still running once its owner closed (waiting a moment for
    tasks that are finishing), listing each with the await chain it is suspended in."""
    current = asyncio.current_task()
    leftover: list[asyncio.Task[object]] = []
    for _ in range(100):
        leftover = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        if not leftover:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"leaked tasks of {what}:\n" + "\n".join(_where(task) for task in leftover))


def _where(task: asyncio.Task[object]) -> str:
    """A task with the await chain it is suspended in, so a rare leak can be traced from one log
    (Task.get_stack shows only the outermost coroutine)."""
    lines = [f"  {task!r}"]
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is not None:
            lines.append(f"    at {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_qualname}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return "\n".join(lines)
