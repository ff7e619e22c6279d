"""Domain errors of scheduling.

Each error carries a stable machine-readable ``code`` (for problem+json and WebSocket error frames,
mapped to HTTP in one place outside this package) and an English message for logs and developers.
Nothing here knows about HTTP status codes. They derive from ``server.platform.errors.DomainError`` like every
other domain error; the services name the input field a refused value came from
(``ValidationFailed.for_field``) where a caller needs it.
"""

from __future__ import annotations

from server.platform.errors import DomainError


class SchedulingError(DomainError):
    """Base of every scheduling domain error."""

    code = "scheduling.error"


class InvalidInterval(SchedulingError, ValueError):
    """An interval is empty, inverted or uses a naive datetime."""

    code = "scheduling.invalid_interval"


class InvalidAvailability(SchedulingError, ValueError):
    """Weekly hours, an exception or a time zone is malformed."""

    code = "scheduling.invalid_availability"


class InvalidSearch(SchedulingError, ValueError):
    """A slot search request is malformed (duration, step, unknown resource, ...)."""

    code = "scheduling.invalid_search"


class SlotUnavailable(SchedulingError):
    """A proposed slot is no longer free for one of its resources (lost a race, or changed hours)."""

    code = "scheduling.slot_unavailable"

    def __init__(self, message: str, *, resource_id: str | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.resource_id = resource_id


class InvalidCalendar(SchedulingError, ValueError):
    """An imported iCalendar file cannot be used.

    Codes: ``calendar.invalid`` (not parseable), ``calendar.too_large`` (bytes over the limit),
    ``calendar.too_many_events`` (occurrences over the limit), ``calendar.unsupported_recurrence``
    (a rule that would explode, e.g. FREQ=SECONDLY), ``calendar.window_too_long``.
    """

    code = "calendar.invalid"


class InvalidInvite(SchedulingError, ValueError):
    """An invite cannot be built (wrong status for the method, a URL that could leak a secret, ...)."""

    code = "invite.invalid"
