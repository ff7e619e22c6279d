"""RTP packets as a forwarding server rewrites them for one recipient: pure bytes, no aiortc.

A forwarded packet keeps its payload and marker; its SSRC, payload type, sequence number and
timestamp become the recipient's (RFC 3550 section 5.1), and its header extensions are written
afresh with the ids negotiated with the recipient: the m-line's ``mid`` (RFC 8843) and
``abs-send-time`` (the recipient's bandwidth estimate), as aiortc's own sender does.
"""

from __future__ import annotations

import struct
import time

_FIXED_HEADER = struct.Struct("!BBHLL")
_SEQUENCE = struct.Struct("!H")
_ONE_BYTE_PROFILE = b"\xbe\xde"
_TWO_BYTE_PROFILE = b"\x10\x00"
_NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900 (NTP) to 1970 (Unix)


def ntp_now() -> int:
    """The wall clock as a 64-bit NTP timestamp (what a sender report pairs with RTP time)."""
    return int((time.time() + _NTP_EPOCH_OFFSET) * 4294967296.0)


def abs_send_time(ntp_time: int) -> bytes:
    """The 3-byte abs-send-time extension value: 6.18 fixed-point seconds of the NTP time."""
    return ((ntp_time >> 14) & 0xFFFFFF).to_bytes(3, "big")


def is_vp8_keyframe(frame: bytes) -> bool:
    """RFC 6386 section 9.1: bit 0 of the frame tag is 0 on a key frame, followed by a start code."""
    return len(frame) >= 6 and not frame[0] & 0x01 and frame[3:6] == b"\x9d\x01\x2a"


def starts_vp8_keyframe(payload: bytes, frame_data: bytes) -> bool:
    """Whether an RTP packet is the first of a VP8 key frame.

    ``payload`` is the RTP payload (its first byte the VP8 payload descriptor, RFC 7741 section
    4.2: S bit 0x10 = start of a partition, PID in the low 3 bits) and ``frame_data`` the same
    payload without the descriptor (the start of the frame when S is set and PID is 0).
    """
    return bool(payload) and payload[0] & 0x17 == 0x10 and is_vp8_keyframe(frame_data)


class RtpHeaderWriter:
    """Writes packets of one recipient's stream: its SSRC and payload type, its extension ids."""

    def __init__(self, ssrc: int, payload_type: int, mid: str, mid_id: int, abs_send_time_id: int) -> None:
        self._ssrc = ssrc
        self._payload_type = payload_type
        # abs-send-time goes last: everything before its value is the same in every packet.
        elements: list[tuple[int, int, bytes]] = []  # (id, value length, value known up front)
        if mid_id and mid:
            elements.append((mid_id, len(mid.encode()), mid.encode()))
        if abs_send_time_id:
            elements.append((abs_send_time_id, 3, b""))
        self._has_extensions = bool(elements)
        # RFC 8285: the one-byte form takes ids 1-14 and values of 1-16 bytes, else the two-byte form.
        one_byte = all(1 <= ext_id <= 14 and 1 <= size <= 16 for ext_id, size, _ in elements)
        body = b""
        length = 0
        for ext_id, size, value in elements:
            head = bytes([(ext_id << 4) | (size - 1)]) if one_byte else bytes([ext_id, size])
            body += head + value
            length += len(head) + size
        padding = -length % 4
        self._ext_prefix = (
            (_ONE_BYTE_PROFILE if one_byte else _TWO_BYTE_PROFILE) + _SEQUENCE.pack((length + padding) // 4) + body
        )
        self._ext_suffix = b"\x00" * padding
        self._with_abs_send_time = bool(abs_send_time_id)

    def write(
        self, marker: int, sequence_number: int, timestamp: int, send_time: bytes, payload: bytes,
        padding_size: int = 0,
    ) -> bytes:
        """One packet; ``send_time`` is the abs-send-time value (ignored when not negotiated)."""
        first = 0x80 | (0x20 if padding_size else 0) | (0x10 if self._has_extensions else 0)
        header = _FIXED_HEADER.pack(
            first, (marker << 7) | self._payload_type, sequence_number, timestamp, self._ssrc
        )
        if self._has_extensions:
            header += self._ext_prefix
            if self._with_abs_send_time:
                header += send_time
            header += self._ext_suffix
        if padding_size:
            return header + payload + b"\x00" * (padding_size - 1) + bytes([padding_size])
        return header + payload


def as_rtx(packet: bytes, payload_type: int, sequence_number: int, ssrc: int) -> bytes:
    """A sent (unprotected, unpadded) packet as its RFC 4588 retransmission on the RTX stream:
    same timestamp, marker and extensions; the original sequence number leads the payload."""
    csrc_count = packet[0] & 0x0F
    header_end = 12 + 4 * csrc_count
    if packet[0] & 0x10:
        header_end += 4 + 4 * _SEQUENCE.unpack_from(packet, header_end + 2)[0]
    return (
        _FIXED_HEADER.pack(
            packet[0] & 0xDF, (packet[1] & 0x80) | payload_type, sequence_number,
            int.from_bytes(packet[4:8], "big"), ssrc,
        )
        + packet[12:header_end]
        + packet[2:4]
        + packet[header_end:]
    )
