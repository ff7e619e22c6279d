"""The note's rules: every problem reported with its field path."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from notes.errors import InvalidNote
from notes.model import (
    Measure,
    NoteContent,
    ProfessionText,
    Reading,
    ReadingKind,
    Responsible,
    ResponsibleKind,
    RiskAnalysis,
    WhatMatters,
)
from notes.validation import LONG_TEXT, note_errors, validate_note
from tests.unit.notes.notes_testkit import T0, bp, sample_note


def codes(content: NoteContent) -> set[tuple[str, str]]:
    return {(e.path, e.code) for e in note_errors(content)}


def test_the_sample_note_and_the_empty_note_are_valid() -> None:
    validate_note(sample_note())
    validate_note(NoteContent())
    assert NoteContent().is_empty()
    assert not sample_note().is_empty()


def test_evaluation_before_start_is_reported_at_its_path() -> None:
    bad = Measure("m", "Trening", Responsible(ResponsibleKind.PATIENT), date(2026, 12, 1), date(2026, 11, 30))
    ok = replace(bad, id="n", evaluation_date=date(2026, 12, 1))
    content = NoteContent(measures=(ok, bad))
    with pytest.raises(InvalidNote) as info:
        validate_note(content)
    assert info.value.code == "notes.invalid"
    assert [(e.path, e.code) for e in info.value.errors] == [("measures[1].evaluation_date", "before_start")]


def test_every_problem_is_collected() -> None:
    content = NoteContent(
        what_matters=WhatMatters("x" * (LONG_TEXT + 1), ("",)),
        risks=(RiskAnalysis("a", " "), RiskAnalysis("a", "Fall", causes=("ok", "bad\x00"))),
        measures=(Measure("not an id!", "Tiltak", Responsible(ResponsibleKind.GP)),),
        profession_texts=(ProfessionText("Lege", "x"), ProfessionText("nurse", ""), ProfessionText("nurse", "")),
    )
    assert codes(content) == {
        ("what_matters.own_words", "too_long"),
        ("what_matters.goals[0]", "required"),
        ("risks[0].unwanted_event", "required"),
        ("risks[1].id", "duplicate_id"),
        ("risks[1].causes[1]", "bad_character"),
        ("measures[0].id", "bad_id"),
        ("profession_texts[0].profession", "bad_profession"),
        ("profession_texts[2].profession", "duplicate_profession"),
    }


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        (replace(bp(), diastolic=None), ("readings[0].diastolic", "required")),
        (replace(bp(), unit="mmHg"), ("readings[0].unit", "wrong_unit")),
        (
            Reading("r", ReadingKind.PULSE, Decimal(70), "/min", T0, "Kari", diastolic=Decimal(1)),
            ("readings[0].diastolic", "not_allowed"),
        ),
        (Reading("r", ReadingKind.PULSE, Decimal("NaN"), "/min", T0, "Kari"), ("readings[0].value", "out_of_range")),
        (Reading("r", ReadingKind.OTHER, Decimal(5), "mmol/L", T0, "Kari"), ("readings[0].name", "required")),
        (
            Reading("r", ReadingKind.PULSE, Decimal(70), "/min", datetime(2026, 1, 1, 8), "Kari"),
            ("readings[0].taken_at", "naive_time"),
        ),
        (Reading("r", ReadingKind.PULSE, Decimal(70), "/min", T0, " "), ("readings[0].taken_by", "required")),
    ],
)
def test_reading_rules(reading: Reading, expected: tuple[str, str]) -> None:
    assert codes(NoteContent(readings=(reading,))) == {expected}


def test_lone_surrogates_are_refused() -> None:
    assert codes(NoteContent(what_matters=WhatMatters("\ud800"))) == {("what_matters.own_words", "bad_character")}


def test_newlines_and_tabs_are_fine() -> None:
    validate_note(NoteContent(what_matters=WhatMatters("linje 1\nlinje 2\r\n\tinnrykk")))
