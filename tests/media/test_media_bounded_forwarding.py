"""Slow recipients, keyframe gating, rate limits and frame assembly, without a network."""

import asyncio
from fractions import Fraction

import av
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from rooms.media.aiortc_hook import ReceiverTap
from rooms.media.forwarded_track import ForwardedTrack
from rooms.media.frame_assembler import GAP_TIMEOUT, LowLatencyVideoAssembler, PassThroughAudioAssembler
from rooms.media.keyframe_requests import KeyframeRequester
from rooms.media.published_track import PublishedTrack, is_vp8_keyframe

KEY = b"\x10\x02\x00\x9d\x01\x2a" + b"\x00" * 20  # VP8 frame tag with the key-frame bit clear
DELTA = b"\x11\x02\x00" + b"\x00" * 20


def packet(data: bytes, pts: int) -> av.Packet:
    encoded = av.Packet(data)
    encoded.pts = pts
    encoded.time_base = Fraction(1, 90000)
    return encoded


def test_vp8_keyframes_are_recognised() -> None:
    assert is_vp8_keyframe(KEY)
    assert not is_vp8_keyframe(DELTA)
    assert not is_vp8_keyframe(b"")


async def test_a_slow_video_recipient_is_bounded_and_resumes_on_a_keyframe() -> None:
    requests: list[int] = []
    track = ForwardedTrack("video", "nurse", "room_camera", lambda: requests.append(1), max_queued_frames=4)
    track.push(packet(DELTA, 0), is_keyframe=False)
    assert track.queued_frames == 0 and track.waiting_for_keyframe  # new recipient waits for a keyframe
    track.push(packet(KEY, 1), is_keyframe=True)
    for pts in range(2, 200):  # the recipient's sender never reads
        track.push(packet(DELTA, pts), is_keyframe=False)
        assert track.queued_frames <= 4
    assert track.waiting_for_keyframe and requests
    assert track.frames_dropped > 150
    track.push(packet(KEY, 200), is_keyframe=True)
    received = await track.recv()
    assert received.pts == 200 and not track.waiting_for_keyframe
    track.stop()


async def test_a_slow_audio_recipient_drops_the_oldest_frames() -> None:
    track = ForwardedTrack("audio", "nurse", "audio", lambda: None, max_queued_frames=3)
    for pts in range(10):
        track.push(packet(b"opus", pts * 960), is_keyframe=False)
    assert [(await track.recv()).pts for _ in range(3)] == [7 * 960, 8 * 960, 9 * 960]
    track.stop()


async def test_recv_waits_for_a_frame_and_ends_with_the_track() -> None:
    track = ForwardedTrack("audio", "nurse", "audio", lambda: None)
    waiting = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)
    track.push(packet(b"opus", 960), is_keyframe=False)
    assert (await waiting).pts == 960
    ended = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)
    track.stop()
    try:
        await ended
    except Exception as exc:
        assert type(exc).__name__ == "MediaStreamError"
    else:
        raise AssertionError("recv() must end with the track")


async def test_keyframe_requests_are_rate_limited() -> None:
    now = [100.0]
    sent: list[float] = []

    async def send() -> bool:
        sent.append(now[0])
        return True

    requester = KeyframeRequester(send, still_needed=lambda: False, min_interval=0.3, clock=lambda: now[0])
    requester.request()
    assert requester.sent == 1
    now[0] = 100.1
    requester.request(explicit=False)
    requester.request(explicit=False)
    assert requester.sent == 1  # inside the interval: at most a trailing request
    now[0] = 100.35
    requester.request()
    assert requester.sent == 2
    await asyncio.sleep(0)
    assert len(sent) == 2
    await requester.close()
    requester.request()
    assert requester.sent == 2


def rtp(seq: int, timestamp: int, marker: bool, data: bytes) -> RtpPacket:
    packet = RtpPacket(payload_type=97, sequence_number=seq, timestamp=timestamp, ssrc=1234)
    packet.marker = int(marker)
    packet._data = data  # type: ignore[attr-defined]  # set by aiortc's depayloader
    return packet


def test_video_frames_leave_on_their_marker_packet() -> None:
    assembler = LowLatencyVideoAssembler()
    assert assembler.add(rtp(10, 3000, False, b"ab")) == (False, None)
    _pli, frame = assembler.add(rtp(11, 3000, True, b"cd"))
    assert frame is not None and frame.data == b"abcd" and frame.timestamp == 3000
    assert assembler.last_ssrc == 1234
    # a gap holds the frame back until the retransmission fills it
    assert assembler.add(rtp(13, 6000, True, b"gh"))[1] is None
    frame = assembler.add(rtp(12, 6000, False, b"ef"))[1]
    assert frame is not None and frame.data == b"efgh"


def test_audio_packets_pass_straight_through() -> None:
    assembler = PassThroughAudioAssembler()
    assert assembler.add(rtp(5, 960, True, b"x"))[1] is not None
    assert assembler.add(rtp(4, 0, True, b"late"))[1] is None
    frame = assembler.add(rtp(6, 1920, False, b"y"))[1]
    assert frame is not None and frame.data == b"y"


def test_a_lost_video_packet_is_given_up_after_the_gap_timeout_and_a_keyframe_asked_for() -> None:
    now = [100.0]
    assembler = LowLatencyVideoAssembler(clock=lambda: now[0])
    assert assembler.add(rtp(10, 3000, True, b"a"))[1] is not None
    # packet 11 (the frame at 6000) is lost for good; the frames at 9000 and 12000 arrive behind it
    assert assembler.add(rtp(12, 6000, True, b"c")) == (False, None)
    assert assembler.add(rtp(13, 9000, True, b"d")) == (False, None)
    now[0] += GAP_TIMEOUT / 2
    assert assembler.add(rtp(14, 12000, True, b"e")) == (False, None), "a retransmission may still come"
    now[0] += GAP_TIMEOUT
    pli, frame = assembler.add(rtp(15, 15000, True, b"f"))
    assert pli, "the publisher is asked for a keyframe"
    assert frame is not None and frame.timestamp == 9000 and frame.data == b"d"
    assert assembler.gaps_skipped == 1
    # what was held behind the gap comes out in order, one frame per packet that arrives
    released = []
    for seq, ts in ((16, 18000), (17, 21000)):
        frame = assembler.add(rtp(seq, ts, True, b"x"))[1]
        assert frame is not None
        released.append(frame.timestamp)
    assert released == [12000, 15000]


def test_a_gap_without_a_whole_frame_behind_it_is_waited_for() -> None:
    now = [100.0]
    assembler = LowLatencyVideoAssembler(clock=lambda: now[0])
    assert assembler.add(rtp(10, 3000, True, b"a"))[1] is not None
    assert assembler.add(rtp(12, 6000, False, b"c"))[1] is None
    now[0] += 10 * GAP_TIMEOUT
    assert assembler.add(rtp(13, 6000, False, b"d")) == (False, None)
    frame = assembler.add(rtp(11, 6000, False, b"b"))[1]
    assert frame is None  # no marker yet: the frame is still incomplete
    frame = assembler.add(rtp(14, 6000, True, b"e"))[1]
    assert frame is not None and frame.data == b"bcde"


class _PliRecorder:
    """Stands in for aiortc's receiver where a tap sends picture-loss requests."""

    def __init__(self) -> None:
        self.plis: list[int] = []

    async def _send_rtcp_pli(self, ssrc: int) -> None:
        self.plis.append(ssrc)


async def test_after_a_given_up_packet_recipients_resume_on_the_next_keyframe() -> None:
    now = [100.0]
    tap = ReceiverTap(_PliRecorder(), "video")  # type: ignore[arg-type]
    tap.assembler = LowLatencyVideoAssembler(clock=lambda: now[0])
    published = PublishedTrack("nurse", "room_camera", "0", tap)
    recipient = published.attach("specialist")
    codec = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
    keyframe, delta = b"\x10\x02\x00\x9d\x01\x2a", b"\x11\x00\x00\x00\x00\x00"
    assert is_vp8_keyframe(keyframe) and not is_vp8_keyframe(delta)

    def feed(seq: int, ts: int, data: bytes) -> None:
        _pli, frame = tap.assembler.add(rtp(seq, ts, True, data))
        if frame is not None:
            tap.put((codec, frame))  # what aiortc's receiver does with each complete frame

    feed(10, 3000, keyframe)
    feed(11, 6000, delta)
    assert recipient.queued_frames == 2 and not recipient.waiting_for_keyframe
    # packet 12 is lost for good; the frames behind it refer to it
    feed(13, 12000, delta)
    feed(14, 15000, delta)
    now[0] += 1.0
    feed(15, 18000, delta)
    assert tap.assembler.gaps_skipped == 1
    assert recipient.waiting_for_keyframe, "delta frames after a given-up loss are not forwarded"
    assert recipient.queued_frames == 2
    feed(16, 21000, keyframe)
    feed(17, 24000, delta)
    feed(18, 27000, delta)
    assert not recipient.waiting_for_keyframe and recipient.queued_frames > 2
    await published.close()
