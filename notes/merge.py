"""Three-way merge of a note, part by part, so two people can write one note at once.

Every save carries the version it was based on (``base``). Meanwhile others may have saved (``theirs``, the
latest stored content). For each part (see :mod:`notes.parts`):

- changed only by one side: that side's change is taken;
- changed by both to the same value: taken once;
- changed by both to different values (including an edit on one side and a deletion on the other): a
  :class:`Conflict` carrying base, theirs and mine. The merged content keeps *theirs* for that part, so
  what is already stored never changes behind anybody's back, and mine is handed back to be resolved.

Nothing is overwritten silently: every change of either side is either in the merged content or in a
conflict. List items merge by their stable id, so adding different risks or measures at once just merges.

The order of list items is not a part. The merged order is theirs, with items only mine has placed after
the item that precedes them in mine (and after anything theirs added at that same spot, which was stored
first); a reordering on my side alone is therefore not carried over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo

from notes.headings import DEFAULT_LANGUAGE, Language
from notes.model import NoteContent
from notes.parts import PartValue, content_from_parts, parts_of
from notes.render import part_text
from server.platform.local_time import OSLO


@dataclass(frozen=True)
class Conflict:
    """The same part changed on both sides: the three values, None where the part is absent (deleted)."""

    part: str
    base: PartValue | None
    theirs: PartValue | None
    mine: PartValue | None

    def texts(self, lang: Language = DEFAULT_LANGUAGE, tz: tzinfo = OSLO) -> tuple[str, str, str]:
        """Base, theirs and mine as plain text for showing side by side (empty text for an absent part)."""
        return part_text(self.base, lang, tz), part_text(self.theirs, lang, tz), part_text(self.mine, lang, tz)

    @property
    def base_text(self) -> str:
        """The base as Norwegian plain text."""
        return part_text(self.base)

    @property
    def theirs_text(self) -> str:
        """Theirs (the stored latest) as Norwegian plain text."""
        return part_text(self.theirs)

    @property
    def mine_text(self) -> str:
        """Mine (the save being merged) as Norwegian plain text."""
        return part_text(self.mine)


@dataclass(frozen=True)
class MergeResult:
    """The merged content, the conflicts (theirs kept in ``content``), and which parts each side changed."""

    content: NoteContent
    conflicts: tuple[Conflict, ...]
    applied_mine: tuple[str, ...]
    kept_theirs: tuple[str, ...]

    @property
    def clean(self) -> bool:
        """True when there is no conflict."""
        return not self.conflicts

    @property
    def conflict_parts(self) -> tuple[str, ...]:
        """The part keys in conflict."""
        return tuple(c.part for c in self.conflicts)


def changed_parts(before: NoteContent, after: NoteContent) -> tuple[str, ...]:
    """The keys of parts added, changed or removed between two contents."""
    a, b = parts_of(before), parts_of(after)
    return tuple(key for key in _union(a, b) if a.get(key) != b.get(key))


def merge(base: NoteContent, theirs: NoteContent, mine: NoteContent) -> MergeResult:
    """Merge ``mine`` (based on ``base``) into ``theirs`` (the latest), part by part."""
    b, t, m = parts_of(base), parts_of(theirs), parts_of(mine)
    merged: dict[str, PartValue] = {}
    conflicts: list[Conflict] = []
    applied: list[str] = []
    kept: list[str] = []
    for key in _union(b, t, m):
        bv, tv, mv = b.get(key), t.get(key), m.get(key)
        if tv == mv or mv == bv:
            result = tv
            if tv != bv:
                kept.append(key)
        elif tv == bv:
            result = mv
            applied.append(key)
        else:
            result = tv
            conflicts.append(Conflict(key, bv, tv, mv))
        if result is not None:
            merged[key] = result
    ordered = _order(merged, list(t), list(m), added_by_theirs={k for k in t if k not in b})
    return MergeResult(content_from_parts(ordered), tuple(conflicts), tuple(applied), tuple(kept))


def with_part(content: NoteContent, part: str, value: PartValue | None) -> NoteContent:
    """The content with one part set (or removed, for None): how a client resolves a conflict before saving.

    A new list item goes to the end of its list.
    """
    parts = parts_of(content)
    if value is None:
        parts.pop(part, None)
    else:
        parts[part] = value
    return content_from_parts(parts)


def _union(*maps: Mapping[str, PartValue]) -> list[str]:
    seen: dict[str, None] = {}
    for mapping in maps:
        for key in mapping:
            seen.setdefault(key, None)
    return list(seen)


def _order(
    merged: dict[str, PartValue], theirs_order: list[str], mine_order: list[str], *, added_by_theirs: set[str]
) -> dict[str, PartValue]:
    placed = [key for key in theirs_order if key in merged]
    placed_set = set(placed)
    for i, key in enumerate(mine_order):
        if key not in merged or key in placed_set:
            continue
        # Sections are regrouped when the content is rebuilt, so placing after the nearest placed predecessor
        # in mine (of whatever section) keeps mine's position within the item's own list.
        at = 0
        for previous in reversed(mine_order[:i]):
            if previous in placed_set:
                at = placed.index(previous) + 1
                break
        # Items theirs added at the same spot were stored first, so they stay first.
        while at < len(placed) and placed[at] in added_by_theirs:
            at += 1
        placed.insert(at, key)
        placed_set.add(key)
    return {key: merged[key] for key in placed}
