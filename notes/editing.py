"""A save from the editor: based on a version, merged with whatever others saved meanwhile.

The caller (a service holding the unit of work) loads the latest :class:`NoteState` and the content of the
version the save was based on, calls :func:`save`, stores ``outcome.state`` as a new version when
``outcome.new_version`` is true, and returns ``outcome.conflicts`` to the editor. Conflicting parts keep
the stored text in the new version; the editor shows both texts, the person picks or combines, and saves
again based on the new version (:func:`notes.merge.with_part` builds that content).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from notes.codec import part_to_dict
from notes.errors import UnknownVersion
from notes.merge import Conflict, MergeResult, merge
from notes.model import NoteContent
from notes.parts import PartValue, content_from_parts, parts_of
from notes.signing import NoteState, ensure_editable
from notes.validation import NOTE_TEXT_LIMIT, text_chars, validate_note

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SaveOutcome:
    """The state after a save, how it merged, and whether a version was added."""

    state: NoteState
    merge: MergeResult
    new_version: bool
    # Parts of mine left out because the note would have grown past its size limit (kept as drafts).
    too_large: tuple[str, ...] = ()

    @property
    def conflicts(self) -> tuple[Conflict, ...]:
        """The parts changed on both sides; mine is not in ``state`` for these."""
        return self.merge.conflicts


def start_note(content: NoteContent | None = None) -> NoteState:
    """A new note at version 1 (empty unless content is given, e.g. prefilled from the referral)."""
    content = NoteContent() if content is None else content
    validate_note(content)
    return NoteState(content=content, version=1)


def save(state: NoteState, *, based_on: int, base: NoteContent, mine: NoteContent,
         limit: int = NOTE_TEXT_LIMIT) -> SaveOutcome:
    """Merge ``mine`` (edited from version ``based_on``, whose content is ``base``) into the latest ``state``.

    Saving the same content twice (a retry after a dropped acknowledgement) adds no version. Raises
    :class:`notes.errors.NoteLocked` for a signed note, :class:`UnknownVersion` for a version that does not
    exist and :class:`notes.errors.InvalidNote` when ``mine`` or the merged content breaks a rule.
    """
    ensure_editable(state)
    if not 1 <= based_on <= state.version:
        raise UnknownVersion(f"version {based_on} does not exist (latest is {state.version})")
    validate_note(mine)
    result = merge(base, state.content, mine)
    if result.conflicts:
        # Part keys and versions only: the texts are health data and stay out of the log.
        logger.info(
            "save based on v%d merged into v%d with conflicts in %s", based_on, state.version, result.conflict_parts
        )
    merged, too_large = fit_within(result, state.content, limit)
    if merged == state.content:
        return SaveOutcome(state, result, new_version=False, too_large=too_large)
    # Two valid sides can still add up past a count limit, so the merged content is checked as well.
    validate_note(merged)
    return SaveOutcome(replace(state, content=merged, version=state.version + 1), result, new_version=True,
                       too_large=too_large)


def fit_within(result: MergeResult, theirs: NoteContent, limit: int) -> tuple[NoteContent, tuple[str, ...]]:
    """The merged content kept within ``limit`` characters of text, and the parts of mine left out for it.

    Only my growth is refused: my changed parts that grew are set back to the stored text, last part first,
    until the note fits (what others stored is never taken out). The caller keeps those parts as drafts.
    """
    parts = parts_of(result.content)
    total = sum(_chars(v) for v in parts.values())
    if total <= limit:
        return result.content, ()
    stored = parts_of(theirs)
    left_out: list[str] = []
    for key in reversed(result.applied_mine):
        if total <= limit:
            break
        mine, before = parts.get(key), stored.get(key)
        growth = _chars(mine) - _chars(before)
        if growth <= 0:
            continue
        if before is None:
            parts.pop(key, None)
        else:
            parts[key] = before
        total -= growth
        left_out.append(key)
    return content_from_parts(parts), tuple(reversed(left_out))


def _chars(value: PartValue | None) -> int:
    return 0 if value is None else text_chars(part_to_dict(value))
