"""A sample note and hypothesis strategies for the notes domain tests."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import strategies as st

from notes.model import (
    UCUM_UNITS,
    AdvanceCarePlan,
    Assessment,
    CognitiveFrailty,
    CognitiveLevel,
    ExportConsultation,
    ExportContext,
    ExportOrganisation,
    ExportParticipant,
    ExportPlace,
    ExportSubject,
    Measure,
    MeasureStatus,
    NoteContent,
    NoteHeader,
    Person,
    PhysicalFrailty,
    PlaceKind,
    ProfessionText,
    PsychologicalFrailty,
    PsychosocialFrailty,
    Reading,
    ReadingKind,
    Responsible,
    ResponsibleKind,
    RiskAnalysis,
    SubjectRef,
    WhatMatters,
)
from notes.parts import PartValue, split_key
from server.platform.clock import FixedClock

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
DOCTOR = Person("u-doc", "Dr. Ola Nordmann", "physician")
NURSE = Person("u-nurse", "Kari Hansen", "nurse")


def make_clock() -> FixedClock:
    return FixedClock(T0 + timedelta(hours=1))


def header() -> NoteHeader:
    return NoteHeader(
        note_id="note-1",
        subject=SubjectRef("Patient/p-123", "Astrid Olsen"),
        consultation_date=T0,
        authors=(DOCTOR, NURSE),
        consultation_id="c-9",
    )


def bp(reading_id: str = "r-bp") -> Reading:
    return Reading(reading_id, ReadingKind.BLOOD_PRESSURE, Decimal(142), "mm[Hg]", T0, "Kari Hansen", "", Decimal(85))


def sample_note() -> NoteContent:
    """A note with every part filled in, Norwegian letters included."""
    return NoteContent(
        what_matters=WhatMatters("Å klare meg selv hjemme & gå tur med hunden", ("Bo hjemme", "Gå til butikken")),
        assessment=Assessment(
            physical=PhysicalFrailty(
                mobility="Går med rullator", falls="To fall siste halvår", polypharmacy="11 legemidler"
            ),
            psychological=PsychologicalFrailty(mood="Noe nedstemt", sleep="Sover dårlig"),
            cognitive=CognitiveFrailty(CognitiveLevel.MILD_IMPAIRMENT, "MMSE 25"),
            psychosocial=PsychosocialFrailty(network="Datter i Bodø", loneliness="Ensom på kveldene"),
        ),
        risks=(
            RiskAnalysis(
                "risk-fall",
                "Fall i hjemmet",
                causes=("Svak muskulatur", "Svimmelhet", "Legemidler"),
                consequences=("Hoftebrudd", "Redsel", "Tapt selvstendighet"),
                proactive_measures=("Styrketrening", "Matombringing"),
                reactive_measures=("Trygghetsalarm",),
            ),
        ),
        measures=(
            Measure(
                "m-1",
                "Legemiddelgjennomgang",
                Responsible(ResponsibleKind.GP, "Fastlege Berg"),
                date(2026, 11, 24),
                date(2026, 12, 15),
                MeasureStatus.PLANNED,
            ),
            Measure(
                "m-2", "Styrketrening to ganger i uka", Responsible(ResponsibleKind.HOME_CARE, "Vefsn"), None, None
            ),
        ),
        acp=AdvanceCarePlan(
            wishes_if_seriously_ill="Vil ikke på respirator",
            hospital_admission="Helst behandling hjemme",
            end_of_life="Å ha det rolig",
            who_present="Datteren",
            talk_again_on=date(2027, 2, 1),
        ),
        readings=(
            bp(),
            Reading("r-spo2", ReadingKind.SPO2, Decimal(96), "%", T0, "Kari Hansen"),
            Reading("r-t", ReadingKind.TEMPERATURE, Decimal("37.20"), "Cel", T0, "Kari Hansen"),
            Reading("r-p", ReadingKind.PULSE, Decimal(72), "/min", T0, "Kari Hansen"),
            Reading("r-w", ReadingKind.BODY_WEIGHT, Decimal("61.5"), "kg", T0, "Kari Hansen"),
            Reading("r-o", ReadingKind.OTHER, Decimal(5), "mmol/L", T0, "Kari Hansen", "Blodsukker"),
        ),
        profession_texts=(
            ProfessionText("physician", "Vurderer seponering av <diuretika> & sovemedisin."),
            ProfessionText("nurse", "Hjemmetjenesten følger opp."),
        ),
    )


# ---------------------------------------------------------------- strategies

# Mostly empty, as real notes are: it keeps examples small enough for hypothesis to explore many of them.
texts = st.just("") | st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc", "Cn")) | st.just("\n"), max_size=10
)
entries = st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc", "Cn", "Z")), min_size=1, max_size=8)
entry_lists = st.lists(entries, max_size=2).map(tuple)
ids = st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
moments = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2035, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))]),
)
optional_days = st.none() | days
optional_offsets = st.none() | st.integers(0, 400)
one_line_texts = texts.filter(lambda t: "\n" not in t)
decimals = st.decimals(min_value=-1000, max_value=1000, allow_nan=False, allow_infinity=False, places=2)


def what_matters() -> st.SearchStrategy[WhatMatters]:
    return st.builds(WhatMatters, texts, entry_lists)


def physical() -> st.SearchStrategy[PhysicalFrailty]:
    return st.builds(PhysicalFrailty, texts, texts, texts, texts, texts, texts, texts)


def psychological() -> st.SearchStrategy[PsychologicalFrailty]:
    return st.builds(PsychologicalFrailty, texts, texts, texts, texts)


def cognitive() -> st.SearchStrategy[CognitiveFrailty]:
    return st.builds(CognitiveFrailty, st.sampled_from(CognitiveLevel), texts)


def psychosocial() -> st.SearchStrategy[PsychosocialFrailty]:
    return st.builds(PsychosocialFrailty, texts, texts, texts, texts, texts, texts)


def risk(item_id: st.SearchStrategy[str] = ids) -> st.SearchStrategy[RiskAnalysis]:
    return st.builds(RiskAnalysis, item_id, entries, entry_lists, entry_lists, entry_lists, entry_lists)


@st.composite
def measure(draw: st.DrawFn, item_id: st.SearchStrategy[str] = ids) -> Measure:
    start = draw(optional_days)
    if start is None:
        evaluation = draw(optional_days)
    else:
        offset = draw(optional_offsets)
        evaluation = None if offset is None else start + timedelta(offset)
    return Measure(
        draw(item_id),
        draw(entries),
        Responsible(draw(st.sampled_from(ResponsibleKind)), draw(one_line_texts)),
        start,
        evaluation,
        draw(st.sampled_from(MeasureStatus)),
    )


def acp() -> st.SearchStrategy[AdvanceCarePlan]:
    return st.builds(AdvanceCarePlan, texts, texts, texts, texts, texts, st.none() | days)


@st.composite
def reading(draw: st.DrawFn, item_id: st.SearchStrategy[str] = ids) -> Reading:
    kind = draw(st.sampled_from(ReadingKind))
    unit = UCUM_UNITS.get(kind) or draw(st.sampled_from(["", "mmol/L", "g/dL"]))
    name = draw(entries) if kind is ReadingKind.OTHER else draw(st.just("") | entries)
    diastolic = draw(decimals) if kind is ReadingKind.BLOOD_PRESSURE else None
    return Reading(draw(item_id), kind, draw(decimals), unit, draw(moments), draw(entries), name, diastolic)


professions = st.sampled_from(["physician", "nurse", "pharmacist", "physiotherapist", "social_worker"])


def profession_text(profession: st.SearchStrategy[str] = professions) -> st.SearchStrategy[ProfessionText]:
    return st.builds(ProfessionText, profession, texts)


# Built once: building strategies inside every draw makes generation several times slower.
_WHAT_MATTERS = st.none() | what_matters()
_ASSESSMENT = st.builds(
    Assessment, st.none() | physical(), st.none() | psychological(), st.none() | cognitive(), st.none() | psychosocial()
)
_RISKS = st.lists(risk(), max_size=2, unique_by=lambda r: r.id).map(tuple)
_MEASURES = st.lists(measure(), max_size=2, unique_by=lambda m: m.id).map(tuple)
_ACP = st.none() | acp()
_READINGS = st.lists(reading(), max_size=2, unique_by=lambda r: r.id).map(tuple)
_PROFESSION_TEXTS = st.lists(profession_text(), max_size=2, unique_by=lambda p: p.profession).map(tuple)


def notes() -> st.SearchStrategy[NoteContent]:
    """Any valid note."""
    return st.builds(NoteContent, _WHAT_MATTERS, _ASSESSMENT, _RISKS, _MEASURES, _ACP, _READINGS, _PROFESSION_TEXTS)


@functools.cache
def part_value(key: str) -> st.SearchStrategy[PartValue]:
    """A value for the part ``key`` (keeping the item id or profession the key names)."""
    section, item = split_key(key)
    fixed = st.just(item or "")
    match section:
        case "what_matters":
            return what_matters()
        case "assessment.physical":
            return physical()
        case "assessment.psychological":
            return psychological()
        case "assessment.cognitive":
            return cognitive()
        case "assessment.psychosocial":
            return psychosocial()
        case "acp":
            return acp()
        case "risks":
            return risk(fixed)
        case "measures":
            return measure(fixed)
        case "readings":
            return reading(fixed)
        case "profession_text":
            return profession_text(fixed)
    raise AssertionError(key)


# Keys a side may add: a small pool, so both sides sometimes add the same key (which must then conflict).
ADDABLE_KEYS = (
    "what_matters",
    "assessment.physical",
    "assessment.cognitive",
    "acp",
    "risks[new1]",
    "risks[new2]",
    "measures[new1]",
    "measures[new2]",
    "readings[new1]",
    "profession_text[pharmacist]",
    "profession_text[nurse]",
)


HOSPITAL = ExportOrganisation("Helgelandssykehuset Mo i Rana", "hospital", "983974910")
RODOY = ExportOrganisation("Rødøy kommune", "municipality", "1836")
SPECIALIST = ExportParticipant(DOCTOR.id, DOCTOR.name, "physician", HOSPITAL, "Geriatri")
HOME_NURSE = ExportParticipant(NURSE.id, NURSE.name, "nurse", RODOY)


def export_header(*, place: ExportPlace | None = None, others: tuple[ExportParticipant, ...] = ()) -> NoteHeader:
    """The sample header as an export gets it: the patient's identity and the consultation filled in."""
    consultation = ExportConsultation(
        public_id="c-9", start=T0, end=T0 + timedelta(minutes=45), status="completed",
        place=place or ExportPlace(PlaceKind.HEALTH_ROOM, "Helserommet Vågaholmen", "Vågaholmen 1", RODOY),
        participants=(SPECIALIST, HOME_NURSE), consultation_type="Geriatrisk samkonsultasjon")
    patient = ExportSubject("Astrid", "Olsen", date(1938, 3, 14), "14033812345")
    return replace(header(), export=ExportContext(patient, consultation, others))
