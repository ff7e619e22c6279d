"""Exports a record system can file: identity, consultation, bow-tie, measures table, pages, FHIR parties."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fhir.resources.bundle import Bundle
from fhir.resources.composition import Composition
from fhir.resources.encounter import Encounter
from fhir.resources.patient import Patient

from notes.export_fhir import NATIONAL_ID, export_fhir_json
from notes.export_pdf import export_pdf, pdf_available
from notes.export_text import export_text
from notes.headings import Language
from notes.model import ExportPlace, NoteContent, PlaceKind, RiskAnalysis
from notes.signing import NoteState, amend, sign
from tests.unit.notes.notes_testkit import DOCTOR, NURSE, export_header, make_clock, sample_note

needs_pdf = pytest.mark.skipif(not pdf_available(), reason="fpdf2 is not installed")


def signed_and_amended() -> NoteState:
    clock = make_clock()
    state = sign(NoteState(sample_note(), version=3), DOCTOR, clock)
    return amend(state, NURSE, "risks[risk-fall]", "Alarmen er montert.", clock)


def pdf_text(lang: Language = "nb", state: NoteState | None = None) -> str:
    return export_pdf(export_header(), state or signed_and_amended(), lang, compress=False).decode("latin-1")


def test_text_export_names_the_patient_and_the_consultation() -> None:
    text = export_text(export_header(), signed_and_amended())
    assert "Navn: Astrid Olsen" in text and "Fødselsdato: 14.03.1938" in text
    assert "Fødselsnummer: 14033812345" in text
    assert "Tid: 23.11.2026 kl. 09.00-09.45" in text
    assert "Pasienten var: På helserom: Helserommet Vågaholmen, Vågaholmen 1, Rødøy kommune" in text
    assert "  - Dr. Ola Nordmann, Lege, Geriatri, Helgelandssykehuset Mo i Rana" in text
    assert "  - Kari Hansen, Sykepleier, Rødøy kommune" in text
    assert text.rstrip().splitlines()[-1].startswith("Signert: Dr. Ola Nordmann (Lege)")


def test_text_export_reads_the_bow_tie_from_causes_to_consequences() -> None:
    text = export_text(export_header(), signed_and_amended())
    order = ["Årsaker:", "  - Svak muskulatur", "      | Forebyggende tiltak:", "      |   - Styrketrening",
             "  [ Uønsket hendelse: Fall i hjemmet ]", "      | Skadebegrensende tiltak:",
             "      |   - Trygghetsalarm", "Konsekvenser:", "  - Hoftebrudd", "Alarmen er montert."]
    positions = [text.index(line) for line in order]
    assert positions == sorted(positions)


def test_text_export_in_english_and_at_home() -> None:
    text = export_text(export_header(place=ExportPlace(PlaceKind.HOME)), signed_and_amended(), "en")
    assert "National identity number: 14033812345" in text and "Date of birth: 1938-03-14" in text
    assert "The patient was: At home" in text and "Time: 2026-11-23 09:00-09:45" in text
    assert "Causes:" in text and "Reactive measures:" in text


@needs_pdf
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_pdf_has_identity_consultation_and_page_numbers(lang: Language) -> None:
    pdf = pdf_text(lang)
    for fact in ("Astrid Olsen", "14033812345", "Helserommet Vågaholmen", "Dr. Ola Nordmann, ", "Geriatri",
                 "Helgelandssykehuset Mo i Rana"):
        assert fact in pdf
    pages = int(re.search(r"/Count (\d+)", pdf).group(1))  # type: ignore[union-attr]
    word = "Side" if lang == "nb" else "Page"
    of = "av" if lang == "nb" else "of"
    numbers = re.findall(rf"\(({word} (\d+) {of} )\) Tj \((\d+)\) Tj", pdf)
    assert [int(n[1]) for n in numbers] == list(range(1, pages + 1))
    assert {int(n[2]) for n in numbers} == {pages}
    assert ("Fødselsnummer" if lang == "nb" else "National identity number") in pdf


def _boxes(pdf: str) -> list[tuple[float, float, float, float]]:
    return [tuple(map(float, m)) for m in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) -?([\d.]+) re", pdf)]  # type: ignore[misc]


@needs_pdf
def test_pdf_draws_the_bow_tie_with_boxes_arrows_and_text_inside() -> None:
    pdf = pdf_text()
    # Every item of the risk is text in the page stream, drawn in boxes ("re") joined by lines ("l")
    # with filled arrowheads (a closed path "h" filled "f").
    for text in ("Svak muskulatur", "Svimmelhet", "Styrketrening", "Matombringing", "Fall i hjemmet",
                 "Trygghetsalarm", "Hoftebrudd", "Tapt selvstendighet"):
        assert f"({text}) Tj" in pdf
    lines = re.findall(r"[\d.]+ [\d.]+ m [\d.]+ [\d.]+ l S", pdf)
    assert len(lines) >= 3 + 3  # one arrow from each cause to the event, one from it to each consequence
    assert len(_boxes(pdf)) >= 9 + 5 * 2  # the nine bow-tie boxes, and the measures table's cells
    assert "Alarmen er montert." in pdf


@needs_pdf
def test_a_bow_tie_too_big_for_a_page_is_split_and_loses_no_item() -> None:
    items = tuple(f"Årsak nummer {i} " + "med en lang forklaring " * 12 for i in range(50))
    risk = RiskAnalysis("big", "Fall", causes=items, consequences=items[:5], proactive_measures=items[:40])
    pdf = pdf_text(state=NoteState(NoteContent(risks=(risk,))))
    assert "del 1 av " in pdf
    for i in range(50):
        assert f"(Årsak nummer {i} " in pdf


@needs_pdf
def test_pdf_measures_table_has_owner_and_dates() -> None:
    pdf = pdf_text()
    for cell in ("Legemiddelgjennomgang", "Fastlege \\(Fastlege Berg\\)", "24.11.2026", "15.12.2026", "Planlagt",
                 "Oppstart", "Evaluering", "Ansvarlig"):
        assert f"({cell}) Tj" in pdf


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_fhir_document_bundle_carries_the_parties_and_every_reference_resolves(lang: Language) -> None:
    data = json.loads(export_fhir_json(export_header(), signed_and_amended(), lang))
    bundle = Bundle.model_validate(data)
    assert bundle.type == "document" and bundle.entry is not None
    kinds = [e.resource.__resource_type__ for e in bundle.entry]  # type: ignore[union-attr]
    assert kinds[0] == "Composition"
    assert {"Patient", "Practitioner", "PractitionerRole", "Organization", "Encounter", "Location"} <= set(kinds)
    urls = [e["fullUrl"] for e in data["entry"]]
    assert len(urls) == len(set(urls)) and all(u.startswith("urn:uuid:") for u in urls)
    refs = list(_references(data))
    assert refs and all(r in urls for r in refs), [r for r in refs if r not in urls]

    by_type = {e.resource.__resource_type__: e.resource for e in bundle.entry}  # type: ignore[union-attr]
    patient = by_type["Patient"]
    assert isinstance(patient, Patient)
    assert patient.identifier[0].system == NATIONAL_ID and patient.identifier[0].value == "14033812345"
    assert str(patient.birthDate) == "1938-03-14" and patient.name[0].family == "Olsen"
    composition = by_type["Composition"]
    assert isinstance(composition, Composition)
    patient_url = urls[kinds.index("Patient")]
    encounter_url = urls[kinds.index("Encounter")]
    assert composition.subject[0].reference == patient_url
    assert composition.encounter.reference == encounter_url
    roles = {urls[i] for i, k in enumerate(kinds) if k == "PractitionerRole"}
    assert {a.reference for a in composition.author} <= roles
    assert {a.party.reference for a in composition.attester} <= roles
    encounter = by_type["Encounter"]
    assert isinstance(encounter, Encounter)
    assert encounter.class_fhir[0].coding[0].code == "VR"
    assert encounter.actualPeriod.start.isoformat().startswith("2026-11-23T08:00")
    assert len(encounter.participant) == 2
    role_codes = [c["coding"][0]["code"] for e in data["entry"] if e["resource"]["resourceType"] == "PractitionerRole"
                  for c in e["resource"]["code"]]
    assert role_codes == ["LE", "SP"]
    orgs = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Organization"]
    assert {o["identifier"][0]["value"] for o in orgs} == {"983974910", "1836"}
    observations = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert observations and all(o["subject"]["reference"] == patient_url for o in observations)
