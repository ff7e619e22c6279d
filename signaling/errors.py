"""Why a message was refused: the stable codes sent in ``error`` frames, and the one place that maps
protocol, domain and media errors to such frames. Clients switch on ``code``, never on ``message``.
"""

from __future__ import annotations

from enum import StrEnum

from rooms.media import MediaError, NegotiationCollisionError
from server.platform.errors import DomainError
from signaling.outbound import ErrorOut

MEDIA_ERROR = "media_error"
NEGOTIATION_COLLISION = "negotiation_collision"
"""The client's offer crossed the server's: it rolls back, answers and offers again (not a failure)."""


class ErrorCode(StrEnum):
    """The stable codes of protocol errors, sent in error frames."""

    FRAME_TOO_LARGE = "frame_too_large"
    BAD_JSON = "bad_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    BAD_FIELD = "bad_field"
    IMPERSONATION = "impersonation"
    UNSUPPORTED_VERSION = "unsupported_version"
    RATE_LIMITED = "rate_limited"


class ProtocolError(Exception):
    """An inbound frame was refused. ``ref`` is the frame's own ``ref`` when it could be read."""

    def __init__(self, code: ErrorCode, message: str, *, ref: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.ref = ref

    def to_message(self) -> ErrorOut:
        return ErrorOut(str(self.code), self.message, self.ref)


def error_frame(exc: ProtocolError | DomainError | MediaError, ref: str | None) -> ErrorOut:
    """The error frame for a refused message; ``ref`` is the ref of the message it answers."""
    if isinstance(exc, ProtocolError):
        return exc.to_message()  # carries the ref it could read from the frame itself
    if isinstance(exc, DomainError):
        return ErrorOut(exc.code, exc.message, ref)
    code = NEGOTIATION_COLLISION if isinstance(exc, NegotiationCollisionError) else MEDIA_ERROR
    return ErrorOut(code, str(exc), ref)
