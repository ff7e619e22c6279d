"""Domain errors: what went wrong, in words a service knows, with no HTTP in them.

The web and signaling layers map them to problem+json, form messages and error frames in one place.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class; ``code`` is stable and used as the message key for translation."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(DomainError):
    code = "not_found"


class PermissionDenied(DomainError):
    code = "forbidden"


class AuthenticationFailed(DomainError):
    code = "authentication_failed"


class Conflict(DomainError):
    code = "conflict"


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(DomainError):
    """The service cannot do this right now (busy, or a worker gave up); it may work if asked again."""

    code = "unavailable"

    def __init__(self, message: str, *, retry_after_seconds: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_seconds = retry_after_seconds


class ValidationFailed(DomainError):
    """Input was refused; ``fields`` maps a field name to a message code for that field."""

    code = "validation_failed"

    def __init__(self, message: str, fields: dict[str, str] | None = None, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.fields = dict(fields or {})

    @classmethod
    def for_field(cls, field: str, error: DomainError) -> ValidationFailed:
        """``error``, a refusal of one value by a domain rule, as a refusal of the input field ``field``.

        The rule does not know which field its value came from; the service that called it does.
        """
        return cls(error.message, {field: error.code})
