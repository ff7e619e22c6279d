"""A note's state and its pure transitions: sign (which locks it) and amend.

A :class:`NoteState` is the latest content, its version number, the signature if any and the amendments.
Signing records who signed, when, which version and the SHA-256 of the content's canonical JSON; from then
on the content never changes (:func:`ensure_editable` raises :class:`NoteLocked`), and only signed
amendments are added, each tied to a part and chained by hash to the signature and the amendment before,
so a changed or dropped record is detectable with :func:`verify`.

Signing and amending do not create content versions: they are events about a version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from notes.codec import Json, canonical_json, note_to_json, utc_iso
from notes.errors import EmptyNote, InvalidAmendment, NoteLocked, NotSigned
from notes.model import NoteContent, Person
from notes.parts import LIST_SECTIONS, is_part_key, parts_of, split_key
from notes.validation import LONG_TEXT, has_bad_characters, validate_note
from server.platform.clock import Clock

WHOLE_NOTE = "note"
# Amendments may also concern a whole section, e.g. a measure added after signing goes to "measures".
SECTIONS = ("what_matters", "assessment", "risks", "measures", "acp", "readings", "profession_texts")


class NoteStatus(StrEnum):
    """FHIR-compatible status words: a draft is preliminary, a signed note final, then amended."""

    PRELIMINARY = "preliminary"
    FINAL = "final"
    AMENDED = "amended"


@dataclass(frozen=True)
class Signature:
    """Who signed which version, when, and the hash of exactly what they signed."""

    signer: Person
    signed_at: datetime
    version: int
    content_hash: str


@dataclass(frozen=True)
class Amendment:
    """A signed addition after signing; ``part`` is a part key, a section name or ``"note"``."""

    number: int
    part: str
    text: str
    author: Person
    signed_at: datetime
    chain_hash: str


@dataclass(frozen=True)
class NoteState:
    """The latest content and version of a note, with its signature and amendments."""

    content: NoteContent
    version: int = 1
    signature: Signature | None = None
    amendments: tuple[Amendment, ...] = ()

    @property
    def locked(self) -> bool:
        """True once signed."""
        return self.signature is not None

    @property
    def status(self) -> NoteStatus:
        """Preliminary until signed, final when signed, amended once amended."""
        if self.signature is None:
            return NoteStatus.PRELIMINARY
        return NoteStatus.AMENDED if self.amendments else NoteStatus.FINAL

    def amendments_to(self, part: str) -> tuple[Amendment, ...]:
        """The amendments about one part (or section, or ``"note"``), oldest first."""
        return tuple(a for a in self.amendments if a.part == part)


def content_hash(content: NoteContent) -> str:
    """``sha256:<hex>`` of the content's canonical JSON."""
    return "sha256:" + hashlib.sha256(note_to_json(content).encode()).hexdigest()


def ensure_editable(state: NoteState) -> None:
    """Raise :class:`NoteLocked` when the note is signed."""
    if state.signature is not None:
        raise NoteLocked(
            f"the note was signed at version {state.signature.version}; add an amendment instead",
        )


def sign(state: NoteState, signer: Person, clock: Clock) -> NoteState:
    """Sign the latest version, locking the note.

    Raises :class:`NoteLocked` when already signed, :class:`EmptyNote` for an empty note and
    :class:`notes.errors.InvalidNote` when the content breaks a rule.
    """
    ensure_editable(state)
    if state.content.is_empty():
        raise EmptyNote("an empty note cannot be signed")
    validate_note(state.content)
    signature = Signature(signer, clock.now(), state.version, content_hash(state.content))
    return replace(state, signature=signature)


def amend(state: NoteState, author: Person, part: str, text: str, clock: Clock) -> NoteState:
    """Add a signed amendment about ``part`` to a signed note.

    ``part`` is a part key (``measures[m1]``: the item must exist), a section name (``measures``) or
    ``"note"``. Raises :class:`NotSigned` for a draft and :class:`InvalidAmendment` for bad input.
    """
    if state.signature is None:
        raise NotSigned("the note is not signed; edit it instead")
    _check_amendment(state.content, part, text)
    number = len(state.amendments) + 1
    previous = state.amendments[-1].chain_hash if state.amendments else _seal(state.signature)
    signed_at = clock.now()
    chain = _amendment_hash(previous, number, part, text, author, signed_at)
    amendment = Amendment(number, part, text, author, signed_at, chain)
    return replace(state, amendments=(*state.amendments, amendment))


def verify(state: NoteState) -> bool:
    """True when the signature matches the content and every amendment's hash chain holds."""
    if state.signature is None:
        return not state.amendments
    if state.signature.content_hash != content_hash(state.content):
        return False
    previous = _seal(state.signature)
    for number, a in enumerate(state.amendments, start=1):
        expected = _amendment_hash(previous, number, a.part, a.text, a.author, a.signed_at)
        if a.number != number or a.chain_hash != expected:
            return False
        previous = expected
    return True


def _check_amendment(content: NoteContent, part: str, text: str) -> None:
    if not text.strip():
        raise InvalidAmendment("an amendment needs text", code="notes.amendment_empty")
    if len(text) > LONG_TEXT:
        raise InvalidAmendment(f"an amendment holds at most {LONG_TEXT} characters", code="notes.amendment_too_long")
    if has_bad_characters(text):
        raise InvalidAmendment("the text holds a control character", code="notes.amendment_bad_character")
    if part == WHOLE_NOTE or part in SECTIONS:
        return
    if not is_part_key(part):
        raise InvalidAmendment(f"{part!r} is not a part of a note", code="notes.amendment_unknown_part")
    section, _ = split_key(part)
    if section in LIST_SECTIONS and part not in parts_of(content):
        raise InvalidAmendment(f"{part!r} is not in the signed note", code="notes.amendment_unknown_part")


def _person(p: Person) -> dict[str, Json]:
    return {"id": p.id, "name": p.name, "profession": p.profession}


def _seal(signature: Signature) -> str:
    data: dict[str, Json] = {
        "content_hash": signature.content_hash,
        "version": signature.version,
        "signer": _person(signature.signer),
        "signed_at": utc_iso(signature.signed_at),
    }
    return "sha256:" + hashlib.sha256(canonical_json(data).encode()).hexdigest()


def _amendment_hash(previous: str, number: int, part: str, text: str, author: Person, signed_at: datetime) -> str:
    data: dict[str, Json] = {
        "previous": previous,
        "number": number,
        "part": part,
        "text": text,
        "author": _person(author),
        "signed_at": utc_iso(signed_at),
    }
    return "sha256:" + hashlib.sha256(canonical_json(data).encode()).hexdigest()
