"""Domain errors of scheduling.

Each error carries a stable machine-readable ``code`` (for problem+json and WebSocket error frames,
mapped to HTTP in one place outside this package) and an English message for logs and developers.
Nothing here knows about HTTP status codes.
"""

from __future__ import annotations

from typing import ClassVar


class SchedulingError(Exception):
    """Base of every scheduling domain error."""

    default_code: ClassVar[str] = "scheduling.error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"


class InvalidInterval(SchedulingError, ValueError):
    """An interval is empty, inverted or uses a naive datetime."""

    default_code = "scheduling.invalid_interval"


class InvalidAvailability(SchedulingError, ValueError):
    """Weekly hours, an exception or a time zone is malformed."""

    default_code = "scheduling.invalid_availability"


class InvalidSearch(SchedulingError, ValueError):
    """A slot search request is malformed (duration, step, unknown resource, ...)."""

    default_code = "scheduling.invalid_search"


class SlotUnavailable(SchedulingError):
    """A proposed slot is no longer free for one of its resources (lost a race, or changed hours)."""

    default_code = "scheduling.slot_unavailable"

    def __init__(self, message: str, *, resource_id: str | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.resource_id = resource_id


class InvalidCalendar(SchedulingError, ValueError):
    """An imported iCalendar file cannot be used.

    Codes: ``calendar.invalid`` (not parseable), ``calendar.too_large`` (bytes over the limit),
    ``calendar.too_many_events`` (occurrences over the limit), ``calendar.unsupported_recurrence``
    (a rule that would explode, e.g. FREQ=SECONDLY), ``calendar.window_too_long``.
    """

    default_code = "calendar.invalid"


class InvalidInvite(SchedulingError, ValueError):
    """An invite cannot be built (wrong status for the method, a URL that could leak a secret, ...)."""

    default_code = "invite.invalid"
