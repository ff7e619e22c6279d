"""Domain errors of consultation notes.

Each error carries a stable machine-readable ``code``, mapped to HTTP and WebSocket errors in one place
outside this package, and an English message for logs and developers. They derive from
``server.platform.errors.DomainError`` like every other domain error, and from the kind of refusal they are:
a note that breaks a rule is a ``ValidationFailed``, a change that does not fit the note's state a
``Conflict``.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.platform.errors import Conflict, DomainError, ValidationFailed


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: ``path`` like ``measures[2].evaluation_date``, ``code`` like ``too_long``."""

    path: str
    code: str
    message: str
    # The limit a ``too_long``/``too_many``/``note_too_large`` error refers to, so a message can name it.
    limit: int | None = None


class NotesError(DomainError):
    """Base of every notes domain error."""

    code = "notes.error"


class InvalidNote(NotesError, ValidationFailed, ValueError):
    """The note's content breaks a rule; ``errors`` lists every problem found, each with its field path."""

    code = "notes.invalid"

    def __init__(self, errors: tuple[FieldError, ...], *, code: str | None = None) -> None:
        summary = "; ".join(f"{e.path}: {e.message}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"invalid note: {summary}{more}", code=code)
        self.errors = errors


class UnsupportedSchema(NotesError, ValueError):
    """A stored document was written with a schema version this code does not know."""

    code = "notes.schema_unsupported"


class NoteLocked(NotesError, Conflict):
    """The note is signed: its content can no longer change, only be amended."""

    code = "notes.locked"


class NotSigned(NotesError, Conflict):
    """An amendment was asked for a note that is not signed yet (edit it instead)."""

    code = "notes.not_signed"


class UnknownVersion(NotesError, Conflict, ValueError):
    """A save claims to be based on a version that does not exist (newer than the latest, or below 1)."""

    code = "notes.unknown_version"


class InvalidAmendment(NotesError, ValidationFailed, ValueError):
    """An amendment is empty, too long or names a part that does not exist."""

    code = "notes.invalid_amendment"


@dataclass(frozen=True)
class SignBlocker:
    """One thing that stops a note being signed: a draft part of somebody's that breaks a rule."""

    part: str
    error: FieldError
    author_id: str
    author_name: str


class SignBlocked(NotesError, Conflict):
    """Signing was asked while drafts are outstanding; ``blockers`` lists each problem exactly once."""

    code = "notes.sign_blocked"

    def __init__(self, blockers: tuple[SignBlocker, ...]) -> None:
        super().__init__(f"{len(blockers)} problem(s) must be fixed before signing")
        self.blockers = blockers


class EmptyNote(NotesError, ValidationFailed, ValueError):
    """Signing was asked for a note with nothing in it."""

    code = "notes.empty"
