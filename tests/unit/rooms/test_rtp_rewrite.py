"""Rewritten RTP packets read back exactly as aiortc (and so a browser) parses them."""

from __future__ import annotations

from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket, wrap_rtx

from rooms.media.rtp_rewrite import RtpHeaderWriter, abs_send_time, as_rtx, ntp_now, starts_vp8_keyframe

MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
# VP8 payload descriptor (S=1, PID=0), then a key frame: 3-byte frame tag (bit 0 clear), start code, size
KEY_FRAME = b"\x10" + b"\x50\x02\x00" + b"\x9d\x01\x2a" + b"\x80\x02\xe0\x01" + bytes(40)


def _extensions(mid_id: int, abs_id: int) -> HeaderExtensionsMap:
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=mid_id, uri=MID),
        RTCRtpHeaderExtensionParameters(id=abs_id, uri=ABS_SEND_TIME),
    ]))
    return extensions


def test_a_written_packet_parses_with_the_recipients_ids() -> None:
    for mid_id, abs_id in ((4, 2), (1, 3), (15, 200)):  # Chromium's, aiortc's, and the two-byte form
        writer = RtpHeaderWriter(ssrc=0xDEADBEEF, payload_type=96, mid="12", mid_id=mid_id, abs_send_time_id=abs_id)
        data = writer.write(1, 65535, 0xFFFFFFF0, b"\x01\x02\x03", b"payload")
        packet = RtpPacket.parse(data, _extensions(mid_id, abs_id))
        assert (packet.ssrc, packet.payload_type, packet.sequence_number, packet.timestamp, packet.marker) == (
            0xDEADBEEF, 96, 65535, 0xFFFFFFF0, 1)
        assert packet.extensions.mid == "12" and packet.extensions.abs_send_time == 0x010203
        assert packet.payload == b"payload"


def test_without_extensions_and_with_padding() -> None:
    writer = RtpHeaderWriter(ssrc=7, payload_type=111, mid="", mid_id=0, abs_send_time_id=0)
    packet = RtpPacket.parse(writer.write(0, 1, 2, b"\x00\x00\x00", b"opus", padding_size=4))
    assert packet.payload == b"opus" and packet.padding_size == 4 and packet.payload_type == 111


def test_retransmission_matches_aiortcs_rtx_wrapping() -> None:
    extensions = _extensions(4, 2)
    writer = RtpHeaderWriter(ssrc=1234, payload_type=96, mid="3", mid_id=4, abs_send_time_id=2)
    sent = writer.write(1, 4321, 99999, b"\x00\x10\x00", b"frame data")
    ours = RtpPacket.parse(as_rtx(sent, payload_type=97, sequence_number=17, ssrc=5678), extensions)
    theirs = wrap_rtx(RtpPacket.parse(sent, extensions), payload_type=97, sequence_number=17, ssrc=5678)
    assert ours.serialize(extensions) == theirs.serialize(extensions)


def test_keyframe_start_needs_the_partition_start_and_a_key_frame() -> None:
    assert starts_vp8_keyframe(KEY_FRAME, KEY_FRAME[1:])
    delta = b"\x10\x51" + KEY_FRAME[2:]
    assert not starts_vp8_keyframe(delta, delta[1:])  # frame tag bit 0 set: an inter frame
    continuation = b"\x00" + KEY_FRAME[1:]
    assert not starts_vp8_keyframe(continuation, continuation[1:])  # not the first packet of the frame
    assert not starts_vp8_keyframe(b"", b"")


def test_abs_send_time_is_the_6_18_fixed_point_of_the_ntp_time() -> None:
    ntp = (5 << 32) | (1 << 31)  # 5.5 s
    assert abs_send_time(ntp) == ((5 << 18) | (1 << 17)).to_bytes(3, "big")
    assert len(abs_send_time(ntp_now())) == 3
