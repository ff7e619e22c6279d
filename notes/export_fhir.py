"""HL7 FHIR R5 export: a document Bundle with a Composition and one Observation per reading.

The Composition (LOINC 11488-4 Consult note) has one section per part of the note, each with a title, a
code and a generated XHTML narrative (all text escaped), the signer as a legal attester and amendment
authors as professional attesters. Its status follows the note: preliminary, final, amended.
Readings become vital-sign Observations with LOINC codes and UCUM units, referenced from the readings
section. Identifiers and ``urn:uuid`` full URLs are derived from the note id, so exporting the same state
twice gives the same document.

Output is plain JSON-ready data; the tests validate it with ``fhir.resources`` (R5), which this module
does not import so the server does not need it at run time.
"""

from __future__ import annotations

import html
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from notes.codec import Json, utc_iso
from notes.document import Section, build_document
from notes.headings import DEFAULT_LANGUAGE, Language
from notes.model import NoteHeader, Person, Reading, ReadingKind
from notes.render import reading_name
from notes.signing import NoteState
from server.platform.local_time import OSLO

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ATTESTATION_MODE = "http://hl7.org/fhir/composition-attestation-mode"

# Sections with a fitting LOINC code get it beside the local one; the others carry only the local code.
_SECTION_LOINC: dict[str, tuple[str, str]] = {
    "measures": ("18776-5", "Plan of care note"),
    "acp": ("42348-3", "Advance healthcare directives"),
    "readings": ("8716-3", "Vital signs"),
}

_VITALS: dict[ReadingKind, tuple[str, str]] = {
    ReadingKind.BLOOD_PRESSURE: ("85354-9", "Blood pressure panel with all children optional"),
    ReadingKind.SPO2: ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
    ReadingKind.PULSE: ("8867-4", "Heart rate"),
    ReadingKind.TEMPERATURE: ("8310-5", "Body temperature"),
    ReadingKind.BODY_WEIGHT: ("29463-7", "Body weight"),
}
_SYSTOLIC = ("8480-6", "Systolic blood pressure")
_DIASTOLIC = ("8462-4", "Diastolic blood pressure")
_UUID_NAMESPACE = uuid.UUID("6f3c1a52-8d0e-4f5b-9a77-3c2b1e0d9f41")


@dataclass(frozen=True)
class FhirSystems:
    """The identifier and code systems of this installation (the lead sets real ones from settings)."""

    note_id: str = "urn:samkonsult:note"
    staff_id: str = "urn:samkonsult:staff"
    section_code: str = "urn:samkonsult:note-section"


def export_fhir(
    header: NoteHeader,
    state: NoteState,
    lang: Language = DEFAULT_LANGUAGE,
    tz: tzinfo = OSLO,
    systems: FhirSystems | None = None,
) -> dict[str, Json]:
    """The note as a FHIR R5 document Bundle (JSON-ready data)."""
    systems = systems or FhirSystems()
    doc = build_document(header, state, lang, tz)
    observations = {r.id: (_urn(header.note_id, "reading", r.id), r) for r in state.content.readings}
    composition: dict[str, Json] = {
        "resourceType": "Composition",
        "language": lang,
        "identifier": [{"system": systems.note_id, "value": header.note_id}],
        "version": str(state.version),
        "status": state.status.value,
        "type": _concept(LOINC, "11488-4", "Consult note"),
        "subject": [_subject(header)],
        "date": utc_iso(_last_event(header, state)),
        "author": [_staff(p, systems) for p in header.authors],
        "title": doc.title,
        "attester": _attesters(state, systems),
        "section": [_section(s, observations, systems) for s in doc.sections],
    }
    entries: list[Json] = [{"fullUrl": _urn(header.note_id, "composition", _edition(state)), "resource": composition}]
    entries.extend(
        {"fullUrl": url, "resource": _observation(reading, header, lang)} for url, reading in observations.values()
    )
    return {
        "resourceType": "Bundle",
        "identifier": {"system": systems.note_id, "value": f"{header.note_id}/{_edition(state)}"},
        "type": "document",
        "timestamp": utc_iso(_last_event(header, state)),
        "entry": entries,
    }


def export_fhir_json(
    header: NoteHeader,
    state: NoteState,
    lang: Language = DEFAULT_LANGUAGE,
    tz: tzinfo = OSLO,
    systems: FhirSystems | None = None,
) -> str:
    """The document Bundle as JSON text (UTF-8 characters kept)."""
    return json.dumps(export_fhir(header, state, lang, tz, systems), ensure_ascii=False, indent=2)


def narrative_div(section: Section) -> str:
    """The section as an XHTML ``div``: every text escaped, lines kept with ``<br/>``."""
    parts: list[str] = ['<div xmlns="http://www.w3.org/1999/xhtml">']
    for block in section.blocks:
        if block.subtitle is not None:
            parts.append(f"<p><b>{_esc(block.subtitle)}</b></p>")
        if block.lines:
            parts.append(f"<p>{_lines(block.lines)}</p>")
        if block.amendments:
            parts.append(f"<p><i>{_lines(block.amendments)}</i></p>")
    parts.append("</div>")
    return "".join(parts)


def _section(section: Section, observations: dict[str, tuple[str, Reading]], systems: FhirSystems) -> Json:
    codings: list[Json] = [{"system": systems.section_code, "code": section.key}]
    if section.key in _SECTION_LOINC:
        code, display = _SECTION_LOINC[section.key]
        codings.append({"system": LOINC, "code": code, "display": display})
    out: dict[str, Json] = {
        "title": section.title,
        "code": {"coding": codings, "text": section.title},
        "text": {"status": "generated", "div": narrative_div(section)},
    }
    if section.key == "readings":
        out["entry"] = [{"reference": url} for url, _ in observations.values()]
    return out


def _observation(reading: Reading, header: NoteHeader, lang: Language) -> Json:
    obs: dict[str, Json] = {
        "resourceType": "Observation",
        "status": "final",
        "subject": _subject(header),
        "effectiveDateTime": utc_iso(reading.taken_at),
        "performer": [{"display": reading.taken_by}],
    }
    vital = _VITALS.get(reading.kind)
    if vital is None:
        obs["code"] = {"text": reading_name(reading, lang)}
        quantity: dict[str, Json] = {"value": _number(reading.value)}
        if reading.unit:
            quantity["unit"] = reading.unit
        obs["valueQuantity"] = quantity
        return obs
    obs["category"] = [_concept(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")]
    code = _concept(LOINC, *vital)
    code["text"] = reading_name(reading, lang)
    obs["code"] = code
    if reading.kind is ReadingKind.BLOOD_PRESSURE and reading.diastolic is not None:
        obs["component"] = [
            {"code": _concept(LOINC, *_SYSTOLIC), "valueQuantity": _quantity(reading.value, reading.unit)},
            {"code": _concept(LOINC, *_DIASTOLIC), "valueQuantity": _quantity(reading.diastolic, reading.unit)},
        ]
    else:
        obs["valueQuantity"] = _quantity(reading.value, reading.unit)
    return obs


def _attesters(state: NoteState, systems: FhirSystems) -> list[Json]:
    out: list[Json] = []
    if state.signature is not None:
        out.append(_attester("legal", state.signature.signed_at, state.signature.signer, systems))
    out.extend(_attester("professional", a.signed_at, a.author, systems) for a in state.amendments)
    return out


def _attester(mode: str, time: datetime, person: Person, systems: FhirSystems) -> Json:
    mode_concept = _concept(ATTESTATION_MODE, mode, mode.capitalize())
    return {"mode": mode_concept, "time": utc_iso(time), "party": _staff(person, systems)}


def _staff(person: Person, systems: FhirSystems) -> dict[str, Json]:
    # Staff are identified, not referenced: the Practitioner resources live in the record systems.
    identifier: Json = {"system": systems.staff_id, "value": person.id}
    return {"type": "Practitioner", "identifier": identifier, "display": person.name}


def _subject(header: NoteHeader) -> dict[str, Json]:
    out: dict[str, Json] = {"reference": header.subject.reference}
    if header.subject.display:
        out["display"] = header.subject.display
    return out


def _concept(system: str, code: str, display: str) -> dict[str, Json]:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _quantity(value: Decimal, unit: str) -> Json:
    return {"value": _number(value), "unit": unit, "system": UCUM, "code": unit}


def _number(value: Decimal) -> int | float:
    # JSON numbers; an integral reading stays an integer so 72 /min is not written as 72.0.
    return int(value) if value == value.to_integral_value() else float(value)


def _last_event(header: NoteHeader, state: NoteState) -> datetime:
    if state.amendments:
        return state.amendments[-1].signed_at
    if state.signature is not None:
        return state.signature.signed_at
    return header.consultation_date


def _edition(state: NoteState) -> str:
    return f"v{state.version}-a{len(state.amendments)}" + ("-signed" if state.signature else "")


def _urn(note_id: str, kind: str, item: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(_UUID_NAMESPACE, f"{note_id}/{kind}/{item}"))


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _lines(lines: tuple[str, ...]) -> str:
    return "<br/>".join(_esc(line) for line in lines)
