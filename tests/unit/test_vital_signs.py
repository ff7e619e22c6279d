"""One model of readings: the call and the note agree on kinds, units and bounds; stored notes still load."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from notes.codec import note_from_json, note_to_json
from notes.model import ReadingKind
from rooms.errors import InvalidReading
from rooms.readings import READING_RULES, Reading, ReadingName
from server.call_readings import to_note_reading
from server.people.vital_signs import (
    UCUM_UNITS,
    VITAL_SIGNS,
    ImplausibleReading,
    VitalSign,
    check_value,
    screen_unit,
)

TAKEN = datetime(2026, 11, 23, 8, 55, tzinfo=UTC)


def test_every_kind_with_a_rule_has_exactly_one_name_in_the_call() -> None:
    assert sorted(name.vital_sign for name in ReadingName) == sorted(VITAL_SIGNS)
    assert VitalSign.OTHER not in VITAL_SIGNS
    assert ReadingKind is VitalSign


def test_the_call_keeps_its_words_and_units_on_the_wire() -> None:
    # Version 1 of the call protocol: these are what browsers send and receive.
    assert {name.value: rule.unit for name, rule in READING_RULES.items()} == {
        "blood_pressure": "mmHg",
        "spo2": "%",
        "pulse": "/min",
        "temperature": "°C",
        "weight": "kg",
    }


def test_notes_record_ucum_codes_and_screens_show_human_units() -> None:
    assert dict(UCUM_UNITS) == {
        VitalSign.BLOOD_PRESSURE: "mm[Hg]",
        VitalSign.SPO2: "%",
        VitalSign.PULSE: "/min",
        VitalSign.TEMPERATURE: "Cel",
        VitalSign.BODY_WEIGHT: "kg",
    }
    assert screen_unit("mm[Hg]") == "mmHg" and screen_unit("Cel") == "°C"
    assert screen_unit("mg/dL") == "mg/dL", "a unit the model does not know is shown as written"


@pytest.mark.parametrize(
    ("name", "value", "kind", "expected", "diastolic", "unit"),
    [
        (ReadingName.BLOOD_PRESSURE, "142/88", VitalSign.BLOOD_PRESSURE, Decimal(142), Decimal(88), "mm[Hg]"),
        (ReadingName.SPO2, 94, VitalSign.SPO2, Decimal(94), None, "%"),
        (ReadingName.PULSE, 72, VitalSign.PULSE, Decimal(72), None, "/min"),
        (ReadingName.TEMPERATURE, 37.2, VitalSign.TEMPERATURE, Decimal("37.2"), None, "Cel"),
        (ReadingName.WEIGHT, 81.5, VitalSign.BODY_WEIGHT, Decimal("81.5"), None, "kg"),
    ],
)
def test_a_call_reading_is_the_same_reading_in_the_note(
    name: ReadingName, value: str | int | float, kind: VitalSign, expected: Decimal, diastolic: Decimal | None,
    unit: str,
) -> None:
    note_reading = to_note_reading(Reading(name, value, TAKEN), "Kari Nilsen")
    assert (note_reading.kind, note_reading.value, note_reading.diastolic, note_reading.unit) == (
        kind, expected, diastolic, unit,
    )


def test_the_bounds_are_the_models() -> None:
    check_value(VitalSign.BODY_WEIGHT, Decimal("0.3"))
    with pytest.raises(ImplausibleReading):
        check_value(VitalSign.BODY_WEIGHT, Decimal(7000))
    with pytest.raises(ImplausibleReading):
        check_value(VitalSign.BLOOD_PRESSURE, Decimal(80), Decimal(120))
    with pytest.raises(ImplausibleReading):
        check_value(VitalSign.PULSE, Decimal("72.5"))
    with pytest.raises(InvalidReading):
        Reading(ReadingName.WEIGHT, 7000, TAKEN)


def test_stored_notes_with_every_kind_still_load_unchanged() -> None:
    # Written before the model moved: the codes and units a note stored then are the model's codes now,
    # and a value outside the call's bounds (typed into the editor) is kept, never dropped.
    def stored(reading_id: str, kind: str, value: str, unit: str, diastolic: str | None = None) -> dict[str, object]:
        return {"id": reading_id, "kind": kind, "name": "Blodsukker" if kind == "other" else "", "value": value,
                "diastolic": diastolic, "unit": unit, "taken_at": "2026-11-23T08:55:00Z", "taken_by": "Kari Nilsen"}

    document = {
        "schema": 1, "what_matters": None, "acp": None, "risks": [], "measures": [], "profession_texts": [],
        "assessment": {"physical": None, "psychological": None, "cognitive": None, "psychosocial": None},
        "readings": [
            stored("a", "blood_pressure", "142", "mm[Hg]", "88"),
            stored("b", "spo2", "94", "%"),
            stored("c", "pulse", "72", "/min"),
            stored("d", "temperature", "37.20", "Cel"),
            stored("e", "body_weight", "7000", "kg"),
            stored("f", "other", "6.1", "mmol/L"),
        ],
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    content = note_from_json(text)
    assert [r.kind for r in content.readings] == [
        VitalSign.BLOOD_PRESSURE, VitalSign.SPO2, VitalSign.PULSE, VitalSign.TEMPERATURE, VitalSign.BODY_WEIGHT,
        VitalSign.OTHER,
    ]
    assert note_to_json(content) == text, "the same bytes, so stored content hashes still match"
