"""Rules a note's content must keep: lengths, counts, ids, units and dates.

Every problem is reported with its field path (``measures[2].evaluation_date``, list positions as in the
content), so the editor can point at the field. All problems are collected, not only the first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from notes.errors import FieldError, InvalidNote
from notes.model import (
    AdvanceCarePlan,
    Assessment,
    Measure,
    NoteContent,
    ProfessionText,
    Reading,
    ReadingKind,
    RiskAnalysis,
    WhatMatters,
)
from server.people.vital_signs import UCUM_UNITS

LONG_TEXT = 10_000
SHORT_TEXT = 300
LIST_ENTRY = 1_000
MAX_LIST_ENTRIES = 50
MAX_RISKS = 50
MAX_MEASURES = 200
MAX_READINGS = 500
MAX_PROFESSIONS = 20
MAX_ABS_READING = 100_000
# The whole note's text, in characters (every text value added up). The transport limit of a document
# (notes.codec.MAX_DOCUMENT_CHARS) leaves room for JSON's quoting around this; the editor shows how much
# of it is used, and a save that would go past it keeps the parts that do not fit as drafts.
NOTE_TEXT_LIMIT = 1_500_000

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
PROFESSION_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
# C0 controls other than tab and newlines, lone surrogates and non-characters cannot go into the XHTML of a
# FHIR narrative, a PDF or most record systems, so they are refused at the door rather than mangled later.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class _Collector:
    """Collects field errors while walking the note."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, path: str, code: str, message: str, limit: int | None = None) -> None:
        self.errors.append(FieldError(path, code, message, limit))

    def text(self, path: str, value: str, limit: int, *, required: bool = False) -> None:
        if required and not value.strip():
            self.add(path, "required", "must not be empty")
        if len(value) > limit:
            self.add(path, "too_long", f"at most {limit} characters, got {len(value)}", limit)
        if _BAD_CHARS.search(value):
            self.add(path, "bad_character", "contains a control character or an invalid code point")

    def texts(self, path: str, values: tuple[str, ...]) -> None:
        if len(values) > MAX_LIST_ENTRIES:
            self.add(path, "too_many", f"at most {MAX_LIST_ENTRIES} entries, got {len(values)}", MAX_LIST_ENTRIES)
        for i, value in enumerate(values):
            self.text(f"{path}[{i}]", value, LIST_ENTRY, required=True)

    def count(self, path: str, n: int, limit: int) -> None:
        if n > limit:
            self.add(path, "too_many", f"at most {limit} items, got {n}", limit)

    def ids(self, path: str, ids: Iterable[str]) -> None:
        seen: set[str] = set()
        for i, item_id in enumerate(ids):
            if not ID_PATTERN.fullmatch(item_id):
                self.add(f"{path}[{i}].id", "bad_id", "1-64 letters, digits, '-' or '_'")
            elif item_id in seen:
                self.add(f"{path}[{i}].id", "duplicate_id", f"id {item_id!r} is used twice")
            seen.add(item_id)


def note_errors(content: NoteContent) -> tuple[FieldError, ...]:
    """Every rule the content breaks, each with its field path; empty when the content is valid."""
    c = _Collector()
    if content.what_matters is not None:
        _what_matters(c, content.what_matters)
    _assessment(c, content.assessment)
    c.count("risks", len(content.risks), MAX_RISKS)
    c.ids("risks", (r.id for r in content.risks))
    for i, risk in enumerate(content.risks):
        _risk(c, f"risks[{i}]", risk)
    c.count("measures", len(content.measures), MAX_MEASURES)
    c.ids("measures", (m.id for m in content.measures))
    for i, measure in enumerate(content.measures):
        _measure(c, f"measures[{i}]", measure)
    if content.acp is not None:
        _acp(c, content.acp)
    c.count("readings", len(content.readings), MAX_READINGS)
    c.ids("readings", (r.id for r in content.readings))
    for i, reading in enumerate(content.readings):
        _reading(c, f"readings[{i}]", reading)
    _professions(c, content.profession_texts)
    return tuple(c.errors)


def validate_note(content: NoteContent) -> None:
    """Raise :class:`InvalidNote` listing every broken rule, or return quietly."""
    errors = note_errors(content)
    if errors:
        raise InvalidNote(errors)


def _what_matters(c: _Collector, wm: WhatMatters) -> None:
    c.text("what_matters.own_words", wm.own_words, LONG_TEXT)
    c.texts("what_matters.goals", wm.goals)


def _assessment(c: _Collector, a: Assessment) -> None:
    # Every free-text field of an assessment kind follows the same rule, so walk them by name.
    kinds = {"physical": a.physical, "psychological": a.psychological, "psychosocial": a.psychosocial}
    for kind, value in kinds.items():
        if value is None:
            continue
        for name, text in vars(value).items():
            c.text(f"assessment.{kind}.{name}", text, LONG_TEXT)
    if a.cognitive is not None:
        c.text("assessment.cognitive.comment", a.cognitive.comment, LONG_TEXT)


def _risk(c: _Collector, path: str, risk: RiskAnalysis) -> None:
    c.text(f"{path}.unwanted_event", risk.unwanted_event, LIST_ENTRY, required=True)
    c.texts(f"{path}.causes", risk.causes)
    c.texts(f"{path}.consequences", risk.consequences)
    c.texts(f"{path}.proactive_measures", risk.proactive_measures)
    c.texts(f"{path}.reactive_measures", risk.reactive_measures)


def _measure(c: _Collector, path: str, m: Measure) -> None:
    c.text(f"{path}.what", m.what, LIST_ENTRY, required=True)
    c.text(f"{path}.responsible.name", m.responsible.name, SHORT_TEXT)
    if m.start_date is not None and m.evaluation_date is not None and m.evaluation_date < m.start_date:
        c.add(f"{path}.evaluation_date", "before_start", "the evaluation date is before the start date")


def _acp(c: _Collector, acp: AdvanceCarePlan) -> None:
    for name, value in vars(acp).items():
        if isinstance(value, str):
            c.text(f"acp.{name}", value, LONG_TEXT)


def _reading(c: _Collector, path: str, r: Reading) -> None:
    c.text(f"{path}.taken_by", r.taken_by, SHORT_TEXT, required=True)
    c.text(f"{path}.name", r.name, SHORT_TEXT, required=r.kind is ReadingKind.OTHER)
    c.text(f"{path}.unit", r.unit, 40)
    expected_unit = UCUM_UNITS.get(r.kind)
    if expected_unit is not None and r.unit != expected_unit:
        c.add(f"{path}.unit", "wrong_unit", f"{r.kind.value} is recorded in {expected_unit!r}")
    _number(c, f"{path}.value", r)
    if r.kind is ReadingKind.BLOOD_PRESSURE:
        if r.diastolic is None:
            c.add(f"{path}.diastolic", "required", "blood pressure needs the diastolic pressure")
        elif not r.diastolic.is_finite() or abs(r.diastolic) > MAX_ABS_READING:
            c.add(f"{path}.diastolic", "out_of_range", "not a finite number of sensible size")
    elif r.diastolic is not None:
        c.add(f"{path}.diastolic", "not_allowed", "only blood pressure has a diastolic value")
    if not _aware(r.taken_at):
        c.add(f"{path}.taken_at", "naive_time", "the time must carry its offset")


def _number(c: _Collector, path: str, r: Reading) -> None:
    if not r.value.is_finite() or abs(r.value) > MAX_ABS_READING:
        c.add(path, "out_of_range", "not a finite number of sensible size")


def _professions(c: _Collector, texts: tuple[ProfessionText, ...]) -> None:
    c.count("profession_texts", len(texts), MAX_PROFESSIONS)
    seen: set[str] = set()
    for i, pt in enumerate(texts):
        path = f"profession_texts[{i}]"
        if not PROFESSION_PATTERN.fullmatch(pt.profession):
            c.add(f"{path}.profession", "bad_profession", "a slug: lower-case letters, digits and '_'")
        elif pt.profession in seen:
            c.add(f"{path}.profession", "duplicate_profession", f"{pt.profession!r} appears twice")
        seen.add(pt.profession)
        c.text(f"{path}.text", pt.text, LONG_TEXT)


def text_chars(value: object) -> int:
    """The characters of text in a JSON value (a part or a whole document): every string value added up.

    Keys are not counted; ids, dates and choices are, being few and short (the editor counts the same way).
    """
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(text_chars(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(text_chars(v) for v in value)
    return 0


def has_bad_characters(text: str) -> bool:
    """Whether ``text`` holds a character no note may hold (control characters, lone surrogates)."""
    return _BAD_CHARS.search(text) is not None


def _aware(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() is not None
