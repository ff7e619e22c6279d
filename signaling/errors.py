"""Why an inbound frame was refused: the stable codes sent in ``error`` frames."""

from __future__ import annotations

from enum import StrEnum

from signaling.outbound import ErrorOut


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
