"""The stable JSON form of a note's content, as stored for every version.

The document is an object with ``"schema": 1`` and one key per part, always written in full, with sorted
keys and no insignificant whitespace, so equal content gives equal bytes (and an equal content hash).
Numbers of readings are written as decimal strings, so ``37.20`` stays ``37.20``; times are UTC with a
``Z``; dates are ``YYYY-MM-DD``.

Reading is strict where it protects the data (unknown keys, wrong types, duplicate keys, a newer schema
are refused with field paths) and lenient where it helps evolution (a missing optional key takes its
default). Whatever is read is validated with :func:`notes.validation.validate_note`.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias, TypeVar

from notes.errors import FieldError, InvalidNote, UnsupportedSchema
from notes.json_fields import FieldReader, join_path
from notes.model import (
    AdvanceCarePlan,
    Assessment,
    CognitiveFrailty,
    CognitiveLevel,
    Measure,
    MeasureStatus,
    NoteContent,
    PhysicalFrailty,
    ProfessionText,
    PsychologicalFrailty,
    PsychosocialFrailty,
    Reading,
    ReadingKind,
    Responsible,
    ResponsibleKind,
    RiskAnalysis,
    WhatMatters,
)
from notes.parts import PartValue
from notes.validation import note_errors
from server.platform import strict_json

SCHEMA_VERSION = 1
MAX_DOCUMENT_CHARS = 4_000_000

Json: TypeAlias = "str | int | float | bool | list[Json] | dict[str, Json] | None"

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")
# The all-text kinds of frailty, read field by field.
TP = TypeVar("TP", PhysicalFrailty, PsychologicalFrailty, PsychosocialFrailty)


# ---------------------------------------------------------------- writing


def note_to_dict(content: NoteContent) -> dict[str, Json]:
    """The content as JSON-ready data (``schema`` included)."""
    a = content.assessment
    return {
        "schema": SCHEMA_VERSION,
        "what_matters": None
        if content.what_matters is None
        else {"own_words": content.what_matters.own_words, "goals": list(content.what_matters.goals)},
        "assessment": {
            "physical": _text_fields(a.physical),
            "psychological": _text_fields(a.psychological),
            "cognitive": None
            if a.cognitive is None
            else {"level": a.cognitive.level.value, "comment": a.cognitive.comment},
            "psychosocial": _text_fields(a.psychosocial),
        },
        "risks": [_risk_to_dict(r) for r in content.risks],
        "measures": [_measure_to_dict(m) for m in content.measures],
        "acp": None if content.acp is None else _acp_to_dict(content.acp),
        "readings": [_reading_to_dict(r) for r in content.readings],
        "profession_texts": [{"profession": p.profession, "text": p.text} for p in content.profession_texts],
    }


def note_to_json(content: NoteContent) -> str:
    """The canonical JSON text of the content: equal content, equal text."""
    return canonical_json(note_to_dict(content))


def part_to_dict(value: PartValue | None) -> Json:
    """One part (as in a :class:`notes.merge.Conflict`) in the same JSON form it has inside a note."""
    match value:
        case None:
            return None
        case WhatMatters():
            return {"own_words": value.own_words, "goals": list(value.goals)}
        case PhysicalFrailty() | PsychologicalFrailty() | PsychosocialFrailty():
            return _text_fields(value)
        case CognitiveFrailty():
            return {"level": value.level.value, "comment": value.comment}
        case RiskAnalysis():
            return _risk_to_dict(value)
        case Measure():
            return _measure_to_dict(value)
        case AdvanceCarePlan():
            return _acp_to_dict(value)
        case Reading():
            return _reading_to_dict(value)
        case ProfessionText():
            return {"profession": value.profession, "text": value.text}


def canonical_json(data: Json) -> str:
    """Sorted keys, no spaces, UTF-8 characters kept: the form hashed and stored."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _text_fields(part: PhysicalFrailty | PsychologicalFrailty | PsychosocialFrailty | None) -> Json:
    if part is None:
        return None
    return {f.name: str(getattr(part, f.name)) for f in fields(part)}


def _risk_to_dict(r: RiskAnalysis) -> dict[str, Json]:
    return {
        "id": r.id,
        "unwanted_event": r.unwanted_event,
        "causes": list(r.causes),
        "consequences": list(r.consequences),
        "proactive_measures": list(r.proactive_measures),
        "reactive_measures": list(r.reactive_measures),
    }


def _measure_to_dict(m: Measure) -> dict[str, Json]:
    return {
        "id": m.id,
        "what": m.what,
        "responsible": {"kind": m.responsible.kind.value, "name": m.responsible.name},
        "start_date": _date(m.start_date),
        "evaluation_date": _date(m.evaluation_date),
        "status": m.status.value,
    }


def _acp_to_dict(acp: AdvanceCarePlan) -> dict[str, Json]:
    return {
        "wishes_if_seriously_ill": acp.wishes_if_seriously_ill,
        "hospital_admission": acp.hospital_admission,
        "end_of_life": acp.end_of_life,
        "who_present": acp.who_present,
        "palliative_plan": acp.palliative_plan,
        "talk_again_on": _date(acp.talk_again_on),
    }


def _reading_to_dict(r: Reading) -> dict[str, Json]:
    return {
        "id": r.id,
        "kind": r.kind.value,
        "name": r.name,
        "value": _decimal(r.value),
        "diastolic": None if r.diastolic is None else _decimal(r.diastolic),
        "unit": r.unit,
        "taken_at": utc_iso(r.taken_at),
        "taken_by": r.taken_by,
    }


def _date(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _decimal(d: Decimal) -> str:
    # Fixed-point notation, so 1E+1 is stored as "10" and the stored text reads as people wrote it.
    return format(d, "f")


def utc_iso(moment: datetime) -> str:
    """An aware time as ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` in UTC."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------- reading


def note_from_json(text: str | bytes) -> NoteContent:
    """Read and validate a stored or submitted document; :class:`InvalidNote` lists every problem."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise InvalidNote((FieldError("", "too_large", f"at most {MAX_DOCUMENT_CHARS} characters"),))
    try:
        # At most four UTF-8 bytes a character, so the character limit above is the one that counts.
        data = strict_json.loads(text, max_bytes=4 * MAX_DOCUMENT_CHARS)
    except strict_json.JsonRejected as exc:
        raise InvalidNote((FieldError("", "not_json", exc.message[:200]),)) from exc
    return note_from_dict(data)


def note_from_dict(data: object) -> NoteContent:
    """Read and validate JSON-ready data, as produced by :func:`note_to_dict`."""
    r = _Reader()
    content = r.note(data)
    errors = tuple(r.errors)
    if content is None or errors:
        raise InvalidNote(errors or (FieldError("", "invalid", "not a note"),))
    rule_errors = note_errors(content)
    if rule_errors:
        raise InvalidNote(rule_errors)
    return content


def note_problems(data: object) -> tuple[FieldError, ...]:
    """Every problem of JSON-ready data at once: what cannot be read, and the rules what could be read breaks.

    A rule is not reported for a field already reported as unreadable, so each field has one problem.
    """
    r = _Reader()
    content = r.note(data)
    errors = list(r.errors)
    if content is not None:
        unreadable = {e.path for e in errors}
        errors.extend(e for e in note_errors(content) if e.path not in unreadable)
    return tuple(errors)


class _Reader(FieldReader):
    """Reads a note document part by part; a part it cannot read is None and its errors are kept."""

    def note(self, data: object) -> NoteContent | None:
        keys = {"schema", "what_matters", "assessment", "risks", "measures", "acp", "readings", "profession_texts"}
        if isinstance(data, dict) and data.get("schema") != SCHEMA_VERSION:
            found = data.get("schema")
            raise UnsupportedSchema(f"schema {found!r} is not supported (this code reads {SCHEMA_VERSION})")
        obj = self.obj("", data, keys)
        if obj is None:
            return None
        return NoteContent(
            what_matters=self.what_matters(obj.get("what_matters")),
            assessment=self.assessment(obj.get("assessment")),
            risks=self.items("risks", obj.get("risks"), self.risk),
            measures=self.items("measures", obj.get("measures"), self.measure),
            acp=self.acp(obj.get("acp")),
            readings=self.items("readings", obj.get("readings"), self.reading),
            profession_texts=self.items("profession_texts", obj.get("profession_texts"), self.profession_text),
        )

    def what_matters(self, data: object) -> WhatMatters | None:
        if data is None:
            return None
        obj = self.obj("what_matters", data, {"own_words", "goals"})
        if obj is None:
            return None
        return WhatMatters(
            own_words=self.string("what_matters", obj, "own_words"),
            goals=self.strings("what_matters", obj, "goals"),
        )

    def assessment(self, data: object) -> Assessment:
        if data is None:
            return Assessment()
        obj = self.obj("assessment", data, {"physical", "psychological", "cognitive", "psychosocial"})
        if obj is None:
            return Assessment()
        return Assessment(
            physical=self.text_part("assessment.physical", obj.get("physical"), PhysicalFrailty),
            psychological=self.text_part("assessment.psychological", obj.get("psychological"), PsychologicalFrailty),
            cognitive=self.cognitive(obj.get("cognitive")),
            psychosocial=self.text_part("assessment.psychosocial", obj.get("psychosocial"), PsychosocialFrailty),
        )

    def text_part(self, path: str, data: object, kind: type[TP]) -> TP | None:
        if data is None:
            return None
        names = {f.name for f in fields(kind)}
        obj = self.obj(path, data, names)
        if obj is None:
            return None
        return kind(**{name: self.string(path, obj, name) for name in names})

    def cognitive(self, data: object) -> CognitiveFrailty | None:
        if data is None:
            return None
        path = "assessment.cognitive"
        obj = self.obj(path, data, {"level", "comment"})
        if obj is None:
            return None
        level = self.enum(path, obj, "level", CognitiveLevel, CognitiveLevel.UNKNOWN)
        return CognitiveFrailty(level=level or CognitiveLevel.UNKNOWN, comment=self.string(path, obj, "comment"))

    def risk(self, path: str, data: object) -> RiskAnalysis | None:
        keys = {"id", "unwanted_event", "causes", "consequences", "proactive_measures", "reactive_measures"}
        obj = self.obj(path, data, keys)
        if obj is None:
            return None
        return RiskAnalysis(
            id=self.string(path, obj, "id", required=True),
            unwanted_event=self.string(path, obj, "unwanted_event", required=True),
            causes=self.strings(path, obj, "causes"),
            consequences=self.strings(path, obj, "consequences"),
            proactive_measures=self.strings(path, obj, "proactive_measures"),
            reactive_measures=self.strings(path, obj, "reactive_measures"),
        )

    def measure(self, path: str, data: object) -> Measure | None:
        keys = {"id", "what", "responsible", "start_date", "evaluation_date", "status"}
        obj = self.obj(path, data, keys)
        if obj is None:
            return None
        responsible = self.responsible(join_path(path, "responsible"), obj.get("responsible"))
        status = self.enum(path, obj, "status", MeasureStatus, MeasureStatus.PLANNED)
        measure_id = self.string(path, obj, "id", required=True)
        what = self.string(path, obj, "what", required=True)
        start, evaluation = self.day(path, obj, "start_date"), self.day(path, obj, "evaluation_date")
        if responsible is None or status is None:
            return None
        return Measure(measure_id, what, responsible, start, evaluation, status)

    def responsible(self, path: str, data: object) -> Responsible | None:
        if data is None:
            self.fail(path, "required", "is missing")
            return None
        obj = self.obj(path, data, {"kind", "name"})
        if obj is None:
            return None
        kind = self.enum(path, obj, "kind", ResponsibleKind, None)
        name = self.string(path, obj, "name")
        return None if kind is None else Responsible(kind, name)

    def acp(self, data: object) -> AdvanceCarePlan | None:
        if data is None:
            return None
        texts = {"wishes_if_seriously_ill", "hospital_admission", "end_of_life", "who_present", "palliative_plan"}
        obj = self.obj("acp", data, {*texts, "talk_again_on"})
        if obj is None:
            return None
        return AdvanceCarePlan(
            **{name: self.string("acp", obj, name) for name in sorted(texts)},
            talk_again_on=self.day("acp", obj, "talk_again_on"),
        )

    def reading(self, path: str, data: object) -> Reading | None:
        keys = {"id", "kind", "name", "value", "diastolic", "unit", "taken_at", "taken_by"}
        obj = self.obj(path, data, keys)
        if obj is None:
            return None
        reading_id = self.string(path, obj, "id", required=True)
        kind = self.enum(path, obj, "kind", ReadingKind, None)
        value = self.number(path, obj, "value", required=True)
        diastolic = self.number(path, obj, "diastolic", required=False)
        unit = self.string(path, obj, "unit")
        taken_at = self.moment(path, obj, "taken_at")
        taken_by = self.string(path, obj, "taken_by", required=True)
        name = self.string(path, obj, "name")
        if kind is None or value is None or taken_at is None:
            return None
        return Reading(reading_id, kind, value, unit, taken_at, taken_by, name, diastolic)

    def profession_text(self, path: str, data: object) -> ProfessionText | None:
        obj = self.obj(path, data, {"profession", "text"})
        if obj is None:
            return None
        return ProfessionText(self.string(path, obj, "profession", required=True), self.string(path, obj, "text"))
