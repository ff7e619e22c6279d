"""HL7 FHIR R5 export: a document Bundle with a Composition, the parties, and one Observation per reading.

For an export (a header with ``export`` facts) the Bundle holds, after the Composition: the Patient
(national identity number, name, birth date), a Practitioner and PractitionerRole per staff member
(profession coded, HPR number when known), their Organizations (hospital, municipality), the Location
the patient took part from and the virtual Encounter; the Composition's subject, encounter, authors and
attesters reference them by ``urn:uuid``, so a receiving record system can file the document.

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
from notes.model import (
    ExportConsultation,
    ExportOrganisation,
    ExportParticipant,
    ExportPlace,
    ExportSubject,
    NoteHeader,
    Person,
    PlaceKind,
    Reading,
    ReadingKind,
)
from notes.render import profession_name, reading_name
from notes.signing import NoteState
from server.platform.local_time import OSLO

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ATTESTATION_MODE = "http://hl7.org/fhir/composition-attestation-mode"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
LOCATION_FORM = "http://terminology.hl7.org/CodeSystem/location-physical-type"
# Norwegian identifier systems (the Directorate of e-health's OIDs): fødselsnummer, D-number, the health
# personnel register (HPR), the Central Coordinating Register's organisation number, municipality numbers.
NATIONAL_ID = "urn:oid:2.16.578.1.12.4.1.4.1"
D_NUMBER = "urn:oid:2.16.578.1.12.4.1.4.2"
HPR = "urn:oid:2.16.578.1.12.4.1.4.4"
ORGANISATION_NUMBER = "urn:oid:2.16.578.1.12.4.1.4.101"
MUNICIPALITY_NUMBER = "urn:oid:2.16.578.1.12.4.1.1.3402"
# Helsepersonellkategori (code system 9060) for the professions that have a code there.
HEALTH_PERSONNEL_CATEGORY = "urn:oid:2.16.578.1.12.4.1.1.9060"
_HEALTH_PERSONNEL: dict[str, tuple[str, str]] = {
    "physician": ("LE", "Lege"),
    "nurse": ("SP", "Sykepleier"),
    "physiotherapist": ("FT", "Fysioterapeut"),
    "occupational_therapist": ("ET", "Ergoterapeut"),
    "nutritionist": ("KE", "Klinisk ernæringsfysiolog"),
    "psychologist": ("PS", "Psykolog"),
}
_ENCOUNTER_STATUS = {"booked": "planned", "arrived": "in-progress", "in_progress": "in-progress",
                     "completed": "completed", "cancelled": "cancelled", "no_show": "cancelled"}

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
    patient_id: str = "urn:samkonsult:patient"
    consultation_id: str = "urn:samkonsult:consultation"
    profession: str = "urn:samkonsult:profession"


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
    parties = _Parties(header, systems)
    composition: dict[str, Json] = {
        "resourceType": "Composition",
        "language": lang,
        "identifier": [{"system": systems.note_id, "value": header.note_id}],
        "version": str(state.version),
        "status": state.status.value,
        "type": _concept(LOINC, "11488-4", "Consult note"),
        "subject": [parties.subject()],
        "date": utc_iso(_last_event(header, state)),
        "author": [parties.staff(p) for p in header.authors],
        "title": doc.title,
        "attester": _attesters(state, parties),
        "section": [_section(s, observations, systems) for s in doc.sections],
    }
    if parties.encounter_url:
        composition["encounter"] = {"reference": parties.encounter_url}
    entries: list[Json] = [{"fullUrl": _urn(header.note_id, "composition", _edition(state)), "resource": composition}]
    entries.extend(parties.entries())
    entries.extend(
        {"fullUrl": url, "resource": _observation(reading, parties, lang)} for url, reading in observations.values()
    )
    return {
        "resourceType": "Bundle",
        "identifier": {"system": systems.note_id, "value": f"{header.note_id}/{_edition(state)}"},
        "type": "document",
        "timestamp": utc_iso(_last_event(header, state)),
        "entry": entries,
    }


class _Parties:
    """The Patient, Practitioners, PractitionerRoles, Organizations, Location and Encounter of the Bundle,
    each with one ``urn:uuid`` derived from the note, so every reference to them resolves inside it."""

    def __init__(self, header: NoteHeader, systems: FhirSystems) -> None:
        self.header = header
        self.systems = systems
        self.facts = header.export
        self.staff_by_id: dict[str, ExportParticipant] = {}
        self.encounter_url = ""
        if self.facts is not None:
            self.staff_by_id = {p.person_id: p for p in self.facts.staff()}
            self.encounter_url = self.url("encounter", self.facts.consultation.public_id)

    def url(self, kind: str, item: str) -> str:
        return _urn(self.header.note_id, kind, item)

    def subject(self) -> dict[str, Json]:
        out: dict[str, Json] = {"reference": self.url("patient", "subject") if self.facts else
                                self.header.subject.reference}
        if self.header.subject.display:
            out["display"] = self.header.subject.display
        return out

    def staff(self, person: Person) -> dict[str, Json]:
        """A reference to the person's PractitionerRole when the Bundle has one, else an identifier."""
        if person.id in self.staff_by_id:
            return {"reference": self.url("practitioner-role", person.id), "display": person.name}
        identifier: Json = {"system": self.systems.staff_id, "value": person.id}
        return {"type": "Practitioner", "identifier": identifier, "display": person.name}

    def entries(self) -> list[Json]:
        facts = self.facts
        if facts is None:
            return []
        out: list[Json] = [{"fullUrl": self.url("patient", "subject"), "resource": self.patient(facts.patient)}]
        organisations: dict[str, ExportOrganisation] = {}
        for p in facts.staff():
            if p.organisation is not None:
                organisations.setdefault(_org_key(p.organisation), p.organisation)
        place = facts.consultation.place
        if place.municipality is not None:
            organisations.setdefault(_org_key(place.municipality), place.municipality)
        for p in facts.staff():
            out.append({"fullUrl": self.url("practitioner", p.person_id), "resource": self.practitioner(p)})
            out.append({"fullUrl": self.url("practitioner-role", p.person_id), "resource": self.role(p)})
        for key, org in organisations.items():
            out.append({"fullUrl": self.url("organization", key), "resource": _organization(org)})
        if place.kind is not PlaceKind.UNKNOWN:
            out.append({"fullUrl": self.url("location", "patient"), "resource": self.location(place)})
        out.append({"fullUrl": self.encounter_url, "resource": self.encounter(facts.consultation)})
        return out

    def patient(self, patient: ExportSubject) -> Json:
        return {
            "resourceType": "Patient",
            "identifier": [
                {"use": "official", "system": D_NUMBER if patient.is_d_number else NATIONAL_ID,
                 "value": patient.national_id},
                {"system": self.systems.patient_id, "value": self.header.subject.reference.removeprefix("Patient/")},
            ],
            "name": [{"use": "official", "text": patient.full_name, "family": patient.family_name,
                      "given": list[Json](patient.given_name.split())}],
            "birthDate": patient.birth_date.isoformat(),
        }

    def practitioner(self, p: ExportParticipant) -> Json:
        identifiers: list[Json] = [{"system": self.systems.staff_id, "value": p.person_id}]
        if p.hpr:
            identifiers.insert(0, {"system": HPR, "value": p.hpr})
        return {"resourceType": "Practitioner", "identifier": identifiers, "name": [{"text": p.name}]}

    def role(self, p: ExportParticipant) -> Json:
        codings: list[Json] = [{"system": self.systems.profession, "code": p.profession}]
        if p.profession in _HEALTH_PERSONNEL:
            code, display = _HEALTH_PERSONNEL[p.profession]
            codings.insert(0, {"system": HEALTH_PERSONNEL_CATEGORY, "code": code, "display": display})
        out: dict[str, Json] = {
            "resourceType": "PractitionerRole",
            "practitioner": {"reference": self.url("practitioner", p.person_id), "display": p.name},
            "code": [{"coding": codings, "text": profession_name(p.profession, "nb")}],
        }
        if p.organisation is not None:
            out["organization"] = {"reference": self.url("organization", _org_key(p.organisation)),
                                   "display": p.organisation.name}
        return out

    def location(self, place: ExportPlace) -> Json:
        if place.kind is PlaceKind.HOME:
            return {"resourceType": "Location", "name": "Hjemme", "mode": "kind",
                    "form": _concept(LOCATION_FORM, "ho", "House")}
        out: dict[str, Json] = {"resourceType": "Location", "name": place.name, "mode": "instance",
                                "form": _concept(LOCATION_FORM, "ro", "Room")}
        if place.address:
            out["address"] = {"text": place.address}
        if place.municipality is not None:
            out["managingOrganization"] = {"reference": self.url("organization", _org_key(place.municipality)),
                                           "display": place.municipality.name}
        return out

    def encounter(self, c: ExportConsultation) -> Json:
        out: dict[str, Json] = {
            "resourceType": "Encounter",
            "identifier": [{"system": self.systems.consultation_id, "value": c.public_id}],
            "status": _ENCOUNTER_STATUS.get(c.status, "unknown"),
            "class": [_concept(ACT_CODE, "VR", "virtual")],
            "subject": self.subject(),
            "participant": [{"actor": {"reference": self.url("practitioner-role", p.person_id), "display": p.name}}
                            for p in c.participants],
            "actualPeriod": {"start": utc_iso(c.start), "end": utc_iso(c.end)},
        }
        if c.consultation_type:
            out["type"] = [{"text": c.consultation_type}]
        if c.place.kind is not PlaceKind.UNKNOWN:
            out["location"] = [{"location": {"reference": self.url("location", "patient")}}]
        hospital = next((p.organisation for p in c.participants
                         if p.organisation is not None and p.organisation.kind == "hospital"), None)
        if hospital is not None:
            out["serviceProvider"] = {"reference": self.url("organization", _org_key(hospital)),
                                      "display": hospital.name}
        return out


def _org_key(org: ExportOrganisation) -> str:
    return org.code or org.name


def _organization(org: ExportOrganisation) -> Json:
    out: dict[str, Json] = {"resourceType": "Organization", "active": True, "name": org.name}
    if org.code:
        system = ORGANISATION_NUMBER if len(org.code) == 9 else MUNICIPALITY_NUMBER
        out["identifier"] = [{"system": system, "value": org.code}]
    kind = ("govt", "Government") if org.kind == "municipality" else ("prov", "Healthcare Provider")
    out["type"] = [_concept(ORGANIZATION_TYPE, *kind)]
    return out


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


def _observation(reading: Reading, parties: _Parties, lang: Language) -> Json:
    obs: dict[str, Json] = {
        "resourceType": "Observation",
        "status": "final",
        "subject": parties.subject(),
        "effectiveDateTime": utc_iso(reading.taken_at),
        "performer": [{"display": reading.taken_by}],
    }
    if parties.encounter_url:
        obs["encounter"] = {"reference": parties.encounter_url}
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


def _attesters(state: NoteState, parties: _Parties) -> list[Json]:
    out: list[Json] = []
    if state.signature is not None:
        out.append(_attester("legal", state.signature.signed_at, state.signature.signer, parties))
    out.extend(_attester("professional", a.signed_at, a.author, parties) for a in state.amendments)
    return out


def _attester(mode: str, time: datetime, person: Person, parties: _Parties) -> Json:
    mode_concept = _concept(ATTESTATION_MODE, mode, mode.capitalize())
    return {"mode": mode_concept, "time": utc_iso(time), "party": parties.staff(person)}


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
