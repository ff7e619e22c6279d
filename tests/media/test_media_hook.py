"""The aiortc hook checks what it patches and fails loudly when an upgrade moved it."""

import logging

import aiortc
import pytest
from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from rooms.media import AiortcHookError, MediaRouter, verify_aiortc_hook
from rooms.media.aiortc_hook import ReceiverTap, install_receiver_tap, intercept_keyframe_requests
from rooms.media.rate_counter import WindowRateCounter

from .conftest import LoopbackRoom
from .loopback_peers import loopback_pc

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=97)


def test_the_installed_aiortc_matches_the_hook() -> None:
    verify_aiortc_hook()


def test_another_aiortc_version_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aiortc, "__version__", "1.17.0")
    with pytest.raises(AiortcHookError, match=r"1\.17\.0"):
        verify_aiortc_hook()
    with pytest.raises(AiortcHookError):
        MediaRouter()


def test_a_moved_decoder_queue_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    async def rewritten(self: RTCRtpReceiver, packet: object, arrival_time_ms: int) -> None:
        """An upgrade that hands frames to the decoder some other way."""

    monkeypatch.setattr(RTCRtpReceiver, "_handle_rtp_packet", rewritten)
    with pytest.raises(AiortcHookError, match="_handle_rtp_packet"):
        verify_aiortc_hook()


def test_a_moved_keyframe_request_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(RTCRtpSender, "_send_keyframe")
    with pytest.raises(AiortcHookError, match="_send_keyframe"):
        verify_aiortc_hook()


async def test_a_receiver_without_the_decoder_queue_fails_loudly() -> None:
    pc = loopback_pc()
    try:
        transceiver = pc.addTransceiver("video", direction="recvonly")
        receiver = transceiver.receiver
        with pytest.raises(AiortcHookError, match="track"):
            install_receiver_tap(receiver)  # no remote description yet
        receiver._track = object()  # type: ignore[attr-defined]
        receiver._RTCRtpReceiver__decoder_queue = None  # type: ignore[attr-defined]
        with pytest.raises(AiortcHookError, match="decoder queue"):
            install_receiver_tap(receiver)
    finally:
        await pc.close()


async def test_rtcp_side_hooks_never_raise(caplog: pytest.LogCaptureFixture) -> None:
    pc = loopback_pc()
    try:
        sender = pc.addTransceiver("video", direction="sendonly").sender

        def broken() -> None:
            raise RuntimeError("bug in the relay")

        intercept_keyframe_requests(sender, broken)
        with caplog.at_level(logging.ERROR, logger="rooms.media.aiortc_hook"):
            sender._send_keyframe()  # what aiortc calls on a PLI/FIR
            tap = ReceiverTap(pc.getTransceivers()[0].receiver, "video")
            tap.on_frame = lambda codec, frame: broken()
            tap.put((VP8, JitterFrame(data=b"\x00" * 10, timestamp=0)))
        assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 2
        assert await tap.send_picture_loss() is False  # publisher SSRC not known yet
    finally:
        await pc.close()


async def test_the_server_s_bitrate_estimators_count_with_the_cheaper_counter(room: LoopbackRoom) -> None:
    client = await room.join("nurse")
    estimators = [r._RTCRtpReceiver__remote_bitrate_estimator  # type: ignore[attr-defined]
                  for r in client.server_pc.getReceivers() if r.track is not None and r.track.kind == "video"]
    assert estimators
    assert all(isinstance(e.incoming_bitrate, WindowRateCounter) for e in estimators)
