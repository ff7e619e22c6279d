"""Exports: plain text in both languages, FHIR R5 validated with fhir.resources, and the PDF."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.bundle import Bundle
from fhir.resources.composition import Composition
from fhir.resources.observation import Observation

from notes.export_fhir import export_fhir, export_fhir_json
from notes.export_pdf import export_pdf, pdf_available
from notes.export_text import export_text
from notes.headings import HEADINGS, Language
from notes.model import NoteContent, WhatMatters
from notes.signing import NoteState, amend, sign
from tests.unit.notes.notes_testkit import DOCTOR, NURSE, header, make_clock, sample_note

XHTML = "{http://www.w3.org/1999/xhtml}"


def fhir(state: NoteState, lang: Language = "nb") -> Any:
    """The exported Bundle as parsed JSON, to poke at freely."""
    return json.loads(export_fhir_json(header(), state, lang))


def amended() -> NoteState:
    clock = make_clock()
    state = sign(NoteState(sample_note(), version=3), DOCTOR, clock)
    clock.advance(timedelta(days=1))
    state = amend(state, NURSE, "measures[m-1]", "Fastlegen har fått beskjed.", clock)
    return amend(state, DOCTOR, "note", "Pasienten ringte <i dag>.", clock)


def test_both_heading_tables_have_the_same_keys() -> None:
    assert set(HEADINGS["nb"]) == set(HEADINGS["en"])


@pytest.mark.parametrize(
    ("lang", "headings"),
    [
        (
            "nb",
            [
                "SAMKONSULTASJONSNOTAT",
                "Hva er viktig for deg?",
                "Kartlegging av skrøpelighet",
                "Fysisk skrøpelighet",
                "Risikoanalyse (sløyfe)",
                "Forebyggende tiltak",
                "Tiltak",
                "Forhåndssamtale og palliativ plan",
                "Målinger under konsultasjonen",
                "Notat per yrkesgruppe",
                "Tillegg etter signering",
            ],
        ),
        (
            "en",
            [
                "JOINT CONSULTATION NOTE",
                "What matters to you?",
                "Frailty assessment",
                "Physical frailty",
                "Risk analysis (bow-tie)",
                "Proactive measures",
                "Measures",
                "Advance care planning and palliative plan",
                "Readings taken during the consultation",
                "Notes by profession",
                "Amendments after signing",
            ],
        ),
    ],
)
def test_text_export_has_the_headings_in_order(lang: Language, headings: list[str]) -> None:
    text = export_text(header(), amended(), lang)
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)


def test_text_export_shows_amendments_with_the_original_and_the_signature_line() -> None:
    text = export_text(header(), amended())
    original = text.index("Legemiddelgjennomgang")
    amendment = text.index("Fastlegen har fått beskjed.")
    next_measure = text.index("Styrketrening to ganger i uka")
    assert original < amendment < next_measure
    assert "Tillegg 1 (24.11.2026 kl. 10.00, av Kari Hansen (Sykepleier)" in text
    assert "Pasienten ringte <i dag>." in text.split("Tillegg etter signering")[1]
    last = text.rstrip("\n").splitlines()[-1]
    assert last.startswith("Signert: Dr. Ola Nordmann (Lege), 23.11.2026 kl. 10.00, versjon 3, sjekksum sha256:")
    assert "Blodtrykk: 142/85 mmHg" in text and "Temperatur: 37,20 °C" in text
    assert "Status: Endelig, med tillegg" in text


def test_text_export_of_a_draft_says_so() -> None:
    text = export_text(header(), NoteState(NoteContent(what_matters=WhatMatters("Hjem"))), "en")
    assert "Status: Preliminary (not signed)" in text
    assert text.endswith("Not signed\n")
    assert "Measures" not in text


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (NoteState(sample_note()), "preliminary"),
        (sign(NoteState(sample_note()), DOCTOR, make_clock()), "final"),
        (amended(), "amended"),
    ],
)
def test_fhir_bundle_validates_as_r5(state: NoteState, status: str) -> None:
    data = export_fhir(header(), state)
    bundle = Bundle.model_validate(data)
    assert bundle.type == "document"
    assert bundle.entry is not None
    composition = bundle.entry[0].resource
    assert isinstance(composition, Composition)
    assert composition.status == status
    assert composition.type.coding is not None
    assert (composition.type.coding[0].system, composition.type.coding[0].code) == ("http://loinc.org", "11488-4")
    assert composition.subject is not None and composition.subject[0].reference == "Patient/p-123"
    assert composition.author is not None and len(composition.author) == 2
    observations = [e.resource for e in bundle.entry[1:]]
    assert all(isinstance(o, Observation) for o in observations)
    assert len(observations) == 6
    # The JSON text is the same data and validates too.
    assert Bundle.model_validate_json(export_fhir_json(header(), state)) == bundle


def test_fhir_composition_sections_attesters_and_escaped_narrative() -> None:
    bundle = fhir(amended(), "en")
    composition = bundle["entry"][0]["resource"]
    assert composition["title"] == "Joint consultation note"
    titles = [s["title"] for s in composition["section"]]
    assert titles == [
        "What matters to you?",
        "Frailty assessment",
        "Risk analysis (bow-tie)",
        "Measures",
        "Advance care planning and palliative plan",
        "Readings taken during the consultation",
        "Notes by profession",
        "Amendments after signing",
    ]
    modes = [(a["mode"]["coding"][0]["code"], a["party"]["display"]) for a in composition["attester"]]
    assert modes == [
        ("legal", "Dr. Ola Nordmann"),
        ("professional", "Kari Hansen"),
        ("professional", "Dr. Ola Nordmann"),
    ]
    for section in composition["section"]:
        div = ET.fromstring(section["text"]["div"])  # well-formed XHTML, or this raises
        assert div.tag == f"{XHTML}div"
    professions = next(s for s in composition["section"] if s["code"]["coding"][0]["code"] == "profession_texts")
    assert "&lt;diuretika&gt; &amp; sovemedisin" in professions["text"]["div"]
    assert "".join(ET.fromstring(professions["text"]["div"]).itertext()).count("<diuretika> & sovemedisin") == 1
    readings = next(s for s in composition["section"] if s["code"]["coding"][0]["code"] == "readings")
    assert readings["code"]["coding"][1]["code"] == "8716-3"
    urls = {e["fullUrl"] for e in bundle["entry"][1:]}
    assert {e["reference"] for e in readings["entry"]} == urls


def test_fhir_observations_carry_loinc_and_ucum() -> None:
    bundle = fhir(NoteState(sample_note()))
    obs = [e["resource"] for e in bundle["entry"][1:]]
    by_code = {o["code"].get("coding", [{}])[0].get("code", o["code"]["text"]): o for o in obs}
    assert set(by_code) == {"85354-9", "59408-5", "8867-4", "8310-5", "29463-7", "Blodsukker"}
    bp = by_code["85354-9"]
    assert bp["category"][0]["coding"][0]["code"] == "vital-signs"
    assert [
        (c["code"]["coding"][0]["code"], c["valueQuantity"]["value"], c["valueQuantity"]["code"])
        for c in bp["component"]
    ] == [
        ("8480-6", 142, "mm[Hg]"),
        ("8462-4", 85, "mm[Hg]"),
    ]
    assert "valueQuantity" not in bp
    assert by_code["8310-5"]["valueQuantity"] == {
        "value": 37.2,
        "unit": "Cel",
        "system": "http://unitsofmeasure.org",
        "code": "Cel",
    }
    assert by_code["8867-4"]["valueQuantity"]["code"] == "/min"
    assert by_code["59408-5"]["valueQuantity"]["code"] == "%"
    assert by_code["29463-7"]["valueQuantity"]["value"] == 61.5
    assert by_code["Blodsukker"]["valueQuantity"] == {"value": 5, "unit": "mmol/L"}
    assert all(o["effectiveDateTime"] == "2026-11-23T08:00:00Z" for o in obs)


def test_fhir_export_is_deterministic() -> None:
    assert export_fhir_json(header(), amended()) == export_fhir_json(header(), amended())
    assert json.loads(export_fhir_json(header(), amended()))["identifier"]["value"] == "note-1/v3-a2-signed"


needs_pdf = pytest.mark.skipif(not pdf_available(), reason="fpdf2 is not installed")


@needs_pdf
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_pdf_starts_with_the_magic_and_holds_the_headings(lang: Language) -> None:
    pdf = export_pdf(header(), amended(), lang, compress=False)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    # Core fonts write Latin-1 text into the uncompressed page stream, with parentheses escaped.
    for key in (
        "title",
        "what_matters",
        "assessment",
        "risks",
        "measures",
        "acp",
        "readings",
        "amendments",
        "signature",
    ):
        heading = HEADINGS[lang][key].replace("(", "\\(").replace(")", "\\)")
        assert heading.encode("latin-1") in pdf


@needs_pdf
def test_pdf_is_deterministic_and_compresses() -> None:
    first = export_pdf(header(), amended())
    assert first == export_pdf(header(), amended())
    assert len(first) < len(export_pdf(header(), amended(), compress=False))


@needs_pdf
def test_pdf_with_a_unicode_font_keeps_sami_letters() -> None:
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not font.exists():
        pytest.skip("DejaVu Sans is not installed")
    state = NoteState(NoteContent(what_matters=WhatMatters("Máhttá: ŋ š č đ ŧ ž")))
    assert export_pdf(header(), state, font_path=font).startswith(b"%PDF-")
    assert export_pdf(header(), state).startswith(b"%PDF-")  # core font: replaced, not failed
