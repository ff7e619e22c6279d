"""A save as the editor sends it, read part by part: valid parts go into the note, invalid ones become drafts.

One bad field must not cost the rest of the note. A submitted document is split into its parts (see
:mod:`notes.parts`); each part is read and checked on its own. A part that breaks a rule is not refused
with the whole save: it is kept as it was submitted, as that author's draft of the part, with its field
errors (paths relative to the part, e.g. ``evaluation_date`` of ``measures[m1]``). For the merge, such a
part counts as unchanged from the version the save was based on, so the stored note keeps its last valid
text of it and the draft sits beside it until it is fixed.

Only what cannot be placed in any part is refused as a whole (:class:`notes.errors.InvalidNote`): a
document that is not an object, an unknown section, an item without a usable id, two items with one id.
Those are faults of the client, not of what a person typed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from notes.codec import SCHEMA_VERSION, Json, note_from_dict, note_problems, part_to_dict
from notes.errors import FieldError, InvalidNote, UnsupportedSchema
from notes.model import NoteContent
from notes.parts import (
    ACP,
    ASSESSMENT_KINDS,
    PROFESSION_SECTION,
    WHAT_MATTERS,
    PartValue,
    content_from_parts,
    item_key,
    parts_of,
)
from notes.validation import ID_PATTERN, PROFESSION_PATTERN

_SECTIONS = {"schema", "what_matters", "assessment", "risks", "measures", "acp", "readings", "profession_texts"}
# The document's list sections, with the item field that names the item in its part key.
_LISTS = (("risks", "risks", "id"), ("measures", "measures", "id"), ("readings", "readings", "id"),
          ("profession_texts", PROFESSION_SECTION, "profession"))


@dataclass(frozen=True)
class PartDraft:
    """One part as its author submitted it (JSON), kept because it breaks a rule; ``errors`` are relative."""

    part: str
    content: Json
    errors: tuple[FieldError, ...]


@dataclass(frozen=True)
class Submission:
    """A read save: the valid parts in the submitted order, the drafts, and where every part stood."""

    valid: Mapping[str, PartValue]
    drafts: tuple[PartDraft, ...] = ()
    order: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, content: NoteContent) -> Submission:
        """A submission of typed content, all of it valid (the caller has a :class:`NoteContent`)."""
        parts = parts_of(content)
        return cls(parts, (), tuple(parts))

    def content_over(self, base: NoteContent) -> NoteContent:
        """The content to merge: the valid parts, and for each draft the base's value of that part (if any).

        A draft thereby counts as "not changed by me": the merge keeps whatever is stored for that part.
        """
        base_parts = parts_of(base)
        drafted = {d.part for d in self.drafts}
        out: dict[str, PartValue] = {}
        for key in self.order:
            if key in drafted:
                if key in base_parts:
                    out[key] = base_parts[key]
            elif key in self.valid:
                out[key] = self.valid[key]
        return content_from_parts(out)


def read_submission(data: object) -> Submission:
    """Read a submitted document part by part; raises :class:`InvalidNote` only for what fits no part."""
    raw = _split(data)
    valid: dict[str, PartValue] = {}
    drafts: list[PartDraft] = []
    for key, (section, prefix, value) in raw.items():
        document = {"schema": SCHEMA_VERSION, section: _wrap(section, key, value)}
        problems = note_problems(document)
        if problems:
            drafts.append(PartDraft(key, _as_json(value), tuple(_relative(e, prefix) for e in problems)))
            continue
        content = note_from_dict(document)
        part = parts_of(content).get(key)
        if part is None:  # cannot happen for a readable part; keep it rather than lose it
            drafts.append(PartDraft(key, _as_json(value), (FieldError("", "invalid", "not a part of a note"),)))
        else:
            valid[key] = part
    return Submission(valid, tuple(drafts), tuple(raw))


def part_json(value: PartValue) -> Json:
    """A valid part as the JSON an editor submits (for drafts made of valid parts, e.g. past the size limit)."""
    return part_to_dict(value)


def _split(data: object) -> dict[str, tuple[str, str, object]]:
    """Part key → (document section, path prefix of the part, raw value), in document order."""
    if not isinstance(data, dict):
        raise InvalidNote((FieldError("", "type", "must be an object"),))
    if data.get("schema") != SCHEMA_VERSION:
        raise UnsupportedSchema(f"schema {data.get('schema')!r} is not supported (this code reads {SCHEMA_VERSION})")
    errors = [FieldError(str(k), "unknown_key", "is not part of the note") for k in data if k not in _SECTIONS]
    out: dict[str, tuple[str, str, object]] = {}
    if data.get(WHAT_MATTERS) is not None:
        out[WHAT_MATTERS] = ("what_matters", "what_matters", data[WHAT_MATTERS])
    assessment = data.get("assessment")
    if isinstance(assessment, dict):
        for kind in assessment:
            if kind not in ASSESSMENT_KINDS:
                errors.append(FieldError(f"assessment.{kind}", "unknown_key", "is not part of the note"))
        for kind in ASSESSMENT_KINDS:
            if assessment.get(kind) is not None:
                out[f"assessment.{kind}"] = ("assessment", f"assessment.{kind}", assessment[kind])
    elif assessment is not None:
        errors.append(FieldError("assessment", "type", "must be an object"))
    for section, key_section, id_field in _LISTS:
        items = data.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            errors.append(FieldError(section, "type", "must be a list"))
            continue
        pattern = PROFESSION_PATTERN if key_section == PROFESSION_SECTION else ID_PATTERN
        for i, item in enumerate(items):
            item_id = item.get(id_field) if isinstance(item, dict) else None
            if not isinstance(item_id, str) or not pattern.fullmatch(item_id):
                errors.append(FieldError(f"{section}[{i}].{id_field}", "bad_id", "every item needs its own id"))
                continue
            key = item_key(key_section, item_id)
            if key in out:
                errors.append(FieldError(f"{section}[{i}].{id_field}", "duplicate_id", f"{item_id!r} is used twice"))
                continue
            out[key] = (section, f"{section}[0]", item)
    if data.get(ACP) is not None:  # sections are regrouped when content is built, so its place here is free
        out[ACP] = ("acp", "acp", data[ACP])
    if errors:
        raise InvalidNote(tuple(errors))
    return out


def _wrap(section: str, key: str, value: object) -> object:
    if section == "assessment":
        return {key.removeprefix("assessment."): value}
    if section in ("risks", "measures", "readings", "profession_texts"):
        return [value]
    return value


def _relative(error: FieldError, prefix: str) -> FieldError:
    if error.path == prefix:
        path = ""
    elif error.path.startswith(prefix + "."):
        path = error.path[len(prefix) + 1:]
    else:
        path = error.path
    return FieldError(path, error.code, error.message, error.limit)


def _as_json(value: object) -> Json:
    """The submitted value as plain JSON data (it came from a JSON parser, so it already is)."""
    loaded: Json = json.loads(json.dumps(value))
    return loaded
