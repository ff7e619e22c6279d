"""What the notes service hands to the web layer: a note's view, its versions, save and export results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from notes.access import NoteAction
from notes.codec import Json
from notes.errors import FieldError
from notes.merge import Conflict
from notes.model import NoteContent, NoteHeader, Person
from notes.signing import NoteState


class ExportFormat(StrEnum):
    """The exports: plain text for a record system, a PDF, and a FHIR R5 document Bundle."""

    TEXT = "text"
    PDF = "pdf"
    FHIR = "fhir"


@dataclass(frozen=True)
class VersionInfo:
    """One stored version: who saved it and when, with its content."""

    version: int
    author: Person
    created_at: datetime
    content: NoteContent


@dataclass(frozen=True)
class VersionSummary:
    """One stored version without its content: listing a long-edited note stays cheap."""

    version: int
    author: Person
    created_at: datetime
    size: int  # characters of the stored document


@dataclass(frozen=True)
class VersionPage:
    """A page of a note's versions, oldest first, and how many there are in all."""

    versions: tuple[VersionSummary, ...]
    total: int


@dataclass(frozen=True)
class StoredDraft:
    """The reader's own draft of one part, kept on the server: what they typed and what is wrong with it."""

    part: str
    content: Json
    errors: tuple[FieldError, ...]
    updated_at: datetime


@dataclass(frozen=True)
class NoteView:
    """A note as the web layer shows it: the state, the header for exports, and what the reader may do.

    ``public_id`` is ``None`` for a consultation whose note nobody has saved yet: an empty note at version 0
    that exists nowhere but on the reader's screen until the first save creates it.
    """

    public_id: str | None
    booking_public_id: str
    patient_id: int
    patient_public_id: str
    patient_name: str
    state: NoteState
    header: NoteHeader
    shared: bool
    verified: bool
    permissions: frozenset[NoteAction]
    profession: str
    # The reader's drafts (parts they typed that break a rule), shown instead of the stored text.
    drafts: tuple[StoredDraft, ...] = ()

    @property
    def version(self) -> int:
        """The latest version number."""
        return self.state.version


@dataclass(frozen=True)
class SaveResult:
    """The note after a save, whether a version was added, the parts left in conflict, and the parts kept as
    the author's drafts because they break a rule (everything else of the save is in the note)."""

    view: NoteView
    new_version: bool
    conflicts: tuple[Conflict, ...]
    drafts: tuple[StoredDraft, ...] = ()
    # The parts of mine this save put into the note (what others' open editors should fetch).
    applied: tuple[str, ...] = ()
    # Parts the author changed but the note was signed first: kept as their draft amendments.
    after_signing: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveAccess:
    """Who has a note open live: the consultation whose note it is (the live channel is keyed by it, so
    editors meet before the note exists), the person as notes name them, and whether they may write."""

    consultation_id: str
    person: Person
    may_write: bool


@dataclass(frozen=True)
class ExportResult:
    """An export's bytes (UTF-8 for text and FHIR) and a file name without its extension."""

    format: ExportFormat
    body: bytes
    filename: str
