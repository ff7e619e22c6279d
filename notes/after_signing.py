"""What an author wrote that reached the server after the note was signed: kept as their draft amendments.

Signing locks the note while somebody else may still be typing in it. Their words must not be lost nor slip
into the signed content, so a save that arrives for a signed note is read part by part: every part the
author changed from the version they were editing becomes a draft amendment of theirs, as plain text they
can read over, change and then sign as an amendment (:func:`notes.signing.amend`).

Drafts are kept in the same table as the drafts of unsigned notes (``note_drafts``), marked by the field
error code :data:`AFTER_SIGNING`; a signed note has no other drafts, since signing is refused while any
draft is outstanding.
"""

from __future__ import annotations

from collections.abc import Mapping

from notes.codec import Json, part_to_dict
from notes.errors import FieldError
from notes.headings import DEFAULT_LANGUAGE, Language
from notes.model import NoteContent, ProfessionText
from notes.parts import LIST_SECTIONS, PROFESSION_SECTION, PartValue, is_part_key, parts_of, split_key
from notes.render import part_text
from notes.signing import SECTIONS, WHOLE_NOTE
from notes.submission import Submission

AFTER_SIGNING = "after_signing"
# Keys of the document's sections, where a part key's section is spelt differently.
_SECTION_OF = {PROFESSION_SECTION: "profession_texts"}
# Item fields that are identities or codes, not words anybody typed (left out of a draft's text).
_NOT_WORDS = frozenset({"id", "kind", "status", "unit", "level", "profession", "taken_by"})


def after_signing_error() -> FieldError:
    """The mark of a draft amendment (its message is worded for the reader by the web layer)."""
    return FieldError("", AFTER_SIGNING, "written after the note was signed; kept as a draft amendment")


def amendment_target(content: NoteContent, key: str) -> str:
    """What an amendment of the draft of part ``key`` concerns: the part itself when the signed note has it
    (or it is not a list item), else its section (a measure added after signing amends "measures")."""
    if key == WHOLE_NOTE or key in SECTIONS:
        return key
    if not is_part_key(key):
        return WHOLE_NOTE
    section, item = split_key(key)
    if item is not None and (section in LIST_SECTIONS or section == PROFESSION_SECTION) \
            and key not in parts_of(content):
        return _SECTION_OF.get(section, section)
    return key


def changed_after(base: NoteContent, submission: Submission,
                  lang: Language = DEFAULT_LANGUAGE) -> tuple[tuple[str, str], ...]:
    """(part key, text) for every part the submission holds different from ``base`` (the version its author
    was editing), valid or not, in the submitted order. Removals carry no words and are left out."""
    before = parts_of(base)
    drafted: Mapping[str, Json] = {d.part: d.content for d in submission.drafts}
    out: list[tuple[str, str]] = []
    for key in submission.order:
        if key in drafted:
            old = before.get(key)
            if old is not None and part_to_dict(old) == drafted[key]:
                continue
            text = _words(drafted[key])
        else:
            value = submission.valid.get(key)
            if value is None or before.get(key) == value:
                continue
            text = _text(value, lang)
        if text.strip():
            out.append((key, text))
    return tuple(out)


def _text(value: PartValue, lang: Language) -> str:
    # One profession's own text is the words themselves; other parts read best with their headings.
    if isinstance(value, ProfessionText):
        return value.text
    return part_text(value, lang)


def _words(value: Json) -> str:
    """The words in a part that could not be read as a part (a broken date, say): every text in it, in order."""
    found: list[str] = []

    def walk(v: Json, name: str = "") -> None:
        if isinstance(v, str):
            if name not in _NOT_WORDS and v.strip():
                found.append(v)
        elif isinstance(v, list):
            for item in v:
                walk(item, name)
        elif isinstance(v, dict):
            for k, item in v.items():
                walk(item, k)

    walk(value)
    return "\n".join(found)
