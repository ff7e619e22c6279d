"""The stored JSON form: a stable round trip, strict reading with field paths."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings

from notes.codec import SCHEMA_VERSION, note_from_dict, note_from_json, note_to_dict, note_to_json, part_to_dict
from notes.errors import InvalidNote, UnsupportedSchema
from notes.model import NoteContent
from notes.parts import parts_of, split_key
from tests.unit.notes.notes_testkit import notes, sample_note


@settings(max_examples=100, deadline=None)
@given(notes())
def test_round_trip_keeps_every_value_and_the_text_is_canonical(content: NoteContent) -> None:
    text = note_to_json(content)
    back = note_from_json(text)
    assert back == content
    assert note_to_json(back) == text
    assert note_from_json(text.encode()) == content


def test_document_carries_its_schema_and_exact_decimals() -> None:
    data = json.loads(note_to_json(sample_note()))
    assert data["schema"] == SCHEMA_VERSION
    temperature = next(r for r in data["readings"] if r["kind"] == "temperature")
    assert temperature["value"] == "37.20"
    assert temperature["taken_at"] == "2026-11-23T08:00:00Z"
    assert note_from_json(note_to_json(sample_note())).readings[2].value == Decimal("37.20")


def test_empty_note_round_trips_and_missing_optional_keys_default() -> None:
    assert note_from_json(note_to_json(NoteContent())) == NoteContent()
    assert note_from_dict({"schema": SCHEMA_VERSION}) == NoteContent()


def test_unknown_keys_and_wrong_types_are_reported_with_paths() -> None:
    data = note_to_dict(sample_note())
    data["surprise"] = 1
    measures = data["measures"]
    assert isinstance(measures, list) and isinstance(measures[1], dict)
    measures[1]["status"] = "done"
    measures[1]["start_date"] = "24.11.2026"
    readings = data["readings"]
    assert isinstance(readings, list) and isinstance(readings[0], dict)
    readings[0]["value"] = True
    readings[0]["taken_at"] = "2026-11-23T08:00:00"
    with pytest.raises(InvalidNote) as info:
        note_from_dict(data)
    assert {(e.path, e.code) for e in info.value.errors} == {
        ("surprise", "unknown_key"),
        ("measures[1].status", "bad_choice"),
        ("measures[1].start_date", "bad_date"),
        ("readings[0].value", "bad_number"),
        ("readings[0].taken_at", "bad_time"),
    }


def test_rules_apply_when_reading_too() -> None:
    data = note_to_dict(sample_note())
    measures = data["measures"]
    assert isinstance(measures, list) and isinstance(measures[0], dict)
    measures[0]["evaluation_date"] = "2026-01-01"
    with pytest.raises(InvalidNote) as info:
        note_from_dict(data)
    assert [e.path for e in info.value.errors] == ["measures[0].evaluation_date"]


@pytest.mark.parametrize("text", ["not json", "[]", '{"schema": 1, "schema": 1}', "{" * 100_000])
def test_garbage_is_an_invalid_note(text: str) -> None:
    with pytest.raises(InvalidNote):
        note_from_json(text)


@pytest.mark.parametrize("schema", [2, None, "1"])
def test_other_schemas_are_refused(schema: object) -> None:
    with pytest.raises(UnsupportedSchema) as info:
        note_from_dict({"schema": schema})
    assert info.value.code == "notes.schema_unsupported"


def test_each_part_has_the_json_form_it_has_inside_the_note() -> None:
    data = note_to_dict(sample_note())
    for key, value in parts_of(sample_note()).items():
        section, item = split_key(key)
        if item is None:
            expected = data[section] if "." not in section else data["assessment"][section.split(".")[1]]  # type: ignore[index, call-overload]
        else:
            listed = data["profession_texts" if section == "profession_text" else section]
            assert isinstance(listed, list)
            expected = next(x for x in listed if isinstance(x, dict) and item in (x.get("id"), x.get("profession")))
        assert part_to_dict(value) == expected
    assert part_to_dict(None) is None
