"""Errors of a live consultation room and of join codes.

Each has a stable ``code`` (the key for translation and for the WebSocket error frame); none knows
about HTTP or WebSockets. They derive from ``server.platform.errors.DomainError`` so the transport layers map
every domain error in one place.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from server.platform.errors import DomainError, RateLimited


class RoomError(DomainError):
    """Base class for refusals by a room."""

    code = "room_error"


class RoomNotOpen(RoomError):
    """The room does not open yet (it opens a while before the booking starts)."""

    code = "room_not_open"

    def __init__(self, message: str, *, opens_at: datetime) -> None:
        super().__init__(message)
        self.opens_at = opens_at


class RoomClosed(RoomError):
    """The room was ended by staff or its slot is long over."""

    code = "room_closed"


class RoomFull(RoomError):
    """The room has no seat left."""

    code = "room_full"


class NotAdmitted(RoomError):
    """The participant is still in the waiting room and may only wait or leave."""

    code = "not_admitted"


class Forbidden(RoomError):
    """The participant's role does not allow this action."""

    code = "forbidden"


class UnknownParticipant(RoomError):
    """No seat in this room has that participant id."""

    code = "unknown_participant"


class InvalidTransition(RoomError):
    """The action does not fit the target's state (admitting someone already admitted, say)."""

    code = "invalid_transition"


class JoinRefused(RoomError):
    """This identity may not (re-)enter the room, for example after being denied or removed."""

    code = "join_refused"


class ResumeRefused(RoomError):
    """The resume token is unknown, expired, or belongs to someone else."""

    code = "resume_refused"


class InvalidReading(RoomError):
    """A measurement is malformed or outside the plausible range for its kind."""

    code = "invalid_reading"


class InvalidInvite(RoomError):
    """An invitation asked for a role that cannot be given a join code."""

    code = "invalid_invite"


class RefusalReason(StrEnum):
    """Why a join code was refused: for the audit log and the logs, not for the caller."""

    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    OTHER_ROOM = "other_room"
    USED = "used"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    RATE_LIMITED = "rate_limited"


class JoinCodeRefused(DomainError):
    """A join code could not be exchanged.

    ``reason`` is the precise cause, to be audited; ``code`` is what the caller may learn. Only a caller
    who demonstrably holds the genuine code for this room learns that it is too early or too late
    (it helps them and tells a guesser nothing); unknown, used and other-room codes all read
    ``join_code_refused`` so that a caller cannot probe which codes exist or have been used.
    """

    code = "join_code_refused"

    def __init__(
        self,
        message: str,
        *,
        reason: RefusalReason,
        valid_from: datetime | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.reason = reason
        self.valid_from = valid_from


class JoinCodeRateLimited(RateLimited):
    """A wrong join code from a client that has typed too many wrong ones lately; try again later.

    Only ever raised for a code that was checked and refused: a valid code is never answered with it.
    """

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds)
        self.reason = RefusalReason.RATE_LIMITED
