"""Domain errors of consultation notes.

Each error carries a stable machine-readable ``code``, mapped to HTTP and WebSocket errors in one place
outside this package, and an English message for logs and developers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: ``path`` like ``measures[2].evaluation_date``, ``code`` like ``too_long``."""

    path: str
    code: str
    message: str


class NotesError(Exception):
    """Base of every notes domain error."""

    default_code: ClassVar[str] = "notes.error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"


class InvalidNote(NotesError, ValueError):
    """The note's content breaks a rule; ``errors`` lists every problem found, each with its field path."""

    default_code = "notes.invalid"

    def __init__(self, errors: tuple[FieldError, ...], *, code: str | None = None) -> None:
        summary = "; ".join(f"{e.path}: {e.message}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"invalid note: {summary}{more}", code=code)
        self.errors = errors


class UnsupportedSchema(NotesError, ValueError):
    """A stored document was written with a schema version this code does not know."""

    default_code = "notes.schema_unsupported"


class NoteLocked(NotesError):
    """The note is signed: its content can no longer change, only be amended."""

    default_code = "notes.locked"


class NotSigned(NotesError):
    """An amendment was asked for a note that is not signed yet (edit it instead)."""

    default_code = "notes.not_signed"


class UnknownVersion(NotesError, ValueError):
    """A save claims to be based on a version that does not exist (newer than the latest, or below 1)."""

    default_code = "notes.unknown_version"


class InvalidAmendment(NotesError, ValueError):
    """An amendment is empty, too long or names a part that does not exist."""

    default_code = "notes.invalid_amendment"


class EmptyNote(NotesError, ValueError):
    """Signing was asked for a note with nothing in it."""

    default_code = "notes.empty"
