"""Refusals become error frames with stable codes; the call page switches on the code, not the text."""

from __future__ import annotations

from datetime import UTC, datetime

from rooms.errors import RoomNotOpen
from rooms.media import MediaError, NegotiationCollisionError, UnsupportedCodecError
from server.platform.errors import PermissionDenied
from signaling.errors import ErrorCode, ProtocolError, error_frame
from signaling.outbound import ErrorOut


def test_a_collision_has_its_own_code_whatever_its_text() -> None:
    for text in ("an offer from p1 collided with the server's unanswered offer", "anything else"):
        assert error_frame(NegotiationCollisionError(text), "r1") == ErrorOut("negotiation_collision", text, "r1")


def test_other_media_failures_stay_media_error() -> None:
    assert error_frame(MediaError("unreadable offer"), None).code == "media_error"
    assert error_frame(UnsupportedCodecError("no VP8"), "r2") == ErrorOut("media_error", "no VP8", "r2")


def test_domain_errors_keep_their_code() -> None:
    assert error_frame(PermissionDenied("only staff"), "r3") == ErrorOut("forbidden", "only staff", "r3")
    assert error_frame(RoomNotOpen("not yet", opens_at=datetime(2026, 1, 1, tzinfo=UTC)), None).code == "room_not_open"


def test_protocol_errors_echo_the_ref_read_from_their_own_frame() -> None:
    refused = ProtocolError(ErrorCode.BAD_FIELD, "'x' must be a string", ref="own")
    assert error_frame(refused, "other") == ErrorOut("bad_field", "'x' must be a string", "own")
