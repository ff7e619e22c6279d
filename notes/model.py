"""The structure of a consultation note.

Every part is optional and appears in this order: what matters to the patient, the assessment of four
kinds of frailty, bow-tie risk analyses, measures, advance care planning with the palliative plan,
readings taken in the call, and free text per participating profession.

Free text is a plain ``str``; an empty string means "not filled in". Items in lists (risks, measures,
readings) carry a stable ``id`` chosen by the client when the item is created, so two people adding items
at the same time never collide and a merge can tell an edit from an addition.

Everything here is a frozen dataclass: a note's content is a value, and a new version is a new value.
Rules (lengths, dates) live in :mod:`notes.validation`, the JSON form in :mod:`notes.codec`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from server.people.vital_signs import UCUM_UNITS as UCUM_UNITS  # the notes model's name for it, kept for its callers
from server.people.vital_signs import VitalSign


def new_item_id() -> str:
    """A fresh random id for a new risk, measure or reading (clients may also create their own)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class WhatMatters:
    """ "What matters to you?": the patient's own words and their goals."""

    own_words: str = ""
    goals: tuple[str, ...] = ()


@dataclass(frozen=True)
class PhysicalFrailty:
    """Physical frailty: mobility, balance, falls, nutrition, polypharmacy (many medicines) and senses."""

    mobility: str = ""
    balance: str = ""
    falls: str = ""
    nutrition: str = ""
    polypharmacy: str = ""
    senses: str = ""
    comment: str = ""


@dataclass(frozen=True)
class PsychologicalFrailty:
    """Psychological frailty: mood, anxiety and sleep."""

    mood: str = ""
    anxiety: str = ""
    sleep: str = ""
    comment: str = ""


class CognitiveLevel(StrEnum):
    """Where on the scale from no impairment to severe dementia the patient is judged to be."""

    UNKNOWN = "unknown"
    NONE = "none"
    MILD_IMPAIRMENT = "mild_impairment"
    MILD_DEMENTIA = "mild_dementia"
    MODERATE_DEMENTIA = "moderate_dementia"
    SEVERE_DEMENTIA = "severe_dementia"


@dataclass(frozen=True)
class CognitiveFrailty:
    """Cognitive frailty, from mild cognitive impairment to dementia."""

    level: CognitiveLevel = CognitiveLevel.UNKNOWN
    comment: str = ""


@dataclass(frozen=True)
class PsychosocialFrailty:
    """Psychosocial frailty: network, housing, loneliness, finances and alcohol."""

    network: str = ""
    housing: str = ""
    loneliness: str = ""
    finances: str = ""
    alcohol: str = ""
    comment: str = ""


@dataclass(frozen=True)
class Assessment:
    """The assessment (kartlegging) across the four kinds of frailty; each kind may be left out."""

    physical: PhysicalFrailty | None = None
    psychological: PsychologicalFrailty | None = None
    cognitive: CognitiveFrailty | None = None
    psychosocial: PsychosocialFrailty | None = None


@dataclass(frozen=True)
class RiskAnalysis:
    """A bow-tie: causes lead to an unwanted event, which leads to consequences.

    Proactive measures sit on the left knot (they prevent the event), reactive measures on the right knot
    (they soften its consequences).
    """

    id: str
    unwanted_event: str
    causes: tuple[str, ...] = ()
    consequences: tuple[str, ...] = ()
    proactive_measures: tuple[str, ...] = ()
    reactive_measures: tuple[str, ...] = ()


class ResponsibleKind(StrEnum):
    """Who carries out a measure."""

    HOSPITAL_DEPARTMENT = "hospital_department"
    HOME_CARE = "home_care"
    GP = "gp"
    PATIENT = "patient"
    RELATIVES = "relatives"


@dataclass(frozen=True)
class Responsible:
    """The kind of party responsible, with an optional free name (a department, a home care district)."""

    kind: ResponsibleKind
    name: str = ""


class MeasureStatus(StrEnum):
    """Where a measure is in its life."""

    PLANNED = "planned"
    STARTED = "started"
    EVALUATED = "evaluated"
    ADJUSTED = "adjusted"
    ENDED = "ended"


@dataclass(frozen=True)
class Measure:
    """A measure (tiltak): what, who is responsible, when it starts and when it is evaluated."""

    id: str
    what: str
    responsible: Responsible
    start_date: date | None = None
    evaluation_date: date | None = None
    status: MeasureStatus = MeasureStatus.PLANNED


@dataclass(frozen=True)
class AdvanceCarePlan:
    """Advance care planning (forhåndssamtale) and the palliative plan."""

    wishes_if_seriously_ill: str = ""
    hospital_admission: str = ""
    end_of_life: str = ""
    who_present: str = ""
    palliative_plan: str = ""
    talk_again_on: date | None = None


ReadingKind = VitalSign
"""The kinds of reading: the one model of :mod:`server.people.vital_signs` (``OTHER`` is named by ``name``)."""


@dataclass(frozen=True)
class Reading:
    """A reading taken during the call.

    For blood pressure ``value`` is the systolic and ``diastolic`` the diastolic pressure; every other
    kind has ``diastolic`` None. ``unit`` is a UCUM code: the model's for its kind (``UCUM_UNITS``), any
    for ``OTHER``. A note keeps what was written: the model's plausible ranges are not applied here, so no
    stored reading is ever refused on load.
    """

    id: str
    kind: ReadingKind
    value: Decimal
    unit: str
    taken_at: datetime
    taken_by: str
    name: str = ""
    diastolic: Decimal | None = None


@dataclass(frozen=True)
class ProfessionText:
    """Free text written by one participating profession (``profession`` is a slug like ``nurse``)."""

    profession: str
    text: str


@dataclass(frozen=True)
class NoteContent:
    """Everything a note says; the value that is versioned, merged, signed and exported."""

    what_matters: WhatMatters | None = None
    assessment: Assessment = field(default_factory=Assessment)
    risks: tuple[RiskAnalysis, ...] = ()
    measures: tuple[Measure, ...] = ()
    acp: AdvanceCarePlan | None = None
    readings: tuple[Reading, ...] = ()
    profession_texts: tuple[ProfessionText, ...] = ()

    def is_empty(self) -> bool:
        """True when no part holds anything (an empty part object still counts as filled in)."""
        return self == NoteContent()


@dataclass(frozen=True)
class Person:
    """Someone who writes, signs or amends: a stable id (the staff account) and a display name."""

    id: str
    name: str
    profession: str = ""


@dataclass(frozen=True)
class SubjectRef:
    """The patient the note is about, as the record systems should refer to them."""

    reference: str
    display: str = ""


@dataclass(frozen=True)
class NoteHeader:
    """What a note is attached to; not versioned content, given to exports by the caller."""

    note_id: str
    subject: SubjectRef
    consultation_date: datetime
    authors: tuple[Person, ...]
    consultation_id: str = ""
    export: ExportContext | None = None
    """The patient's identity and the consultation's details; set only for exports (see ``ExportContext``)."""


@dataclass(frozen=True)
class ExportOrganisation:
    """A hospital or municipality as a record system names it.

    ``kind`` is ``hospital`` or ``municipality``; ``code`` is the organisation number (9 digits) of a
    hospital or the municipality number (4 digits), empty when unknown.
    """

    name: str
    kind: str
    code: str = ""


@dataclass(frozen=True)
class ExportSubject:
    """The patient as a record document must name them: full name, birth date and identity number.

    The identity number is printed in full: the export is filed in the patient's own record, and every
    export is audited.
    """

    given_name: str
    family_name: str
    birth_date: date
    national_id: str
    is_d_number: bool = False

    @property
    def full_name(self) -> str:
        """Given names, then the family name."""
        return f"{self.given_name} {self.family_name}".strip()


@dataclass(frozen=True)
class ExportParticipant:
    """A staff member taking part in the consultation: who, in which profession, for which organisation.

    ``person_id`` is the id notes use for authors and signers (``user:<id>``), so a participant and the
    same person as author are one; ``hpr`` is the Norwegian health personnel number when it is known.
    """

    person_id: str
    name: str
    profession: str
    organisation: ExportOrganisation | None = None
    department: str = ""
    hpr: str = ""


class PlaceKind(StrEnum):
    """Where the patient took part from."""

    HEALTH_ROOM = "health_room"
    HOME = "home"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ExportPlace:
    """Where the patient was: a health room (its name, address and municipality) or at home."""

    kind: PlaceKind
    name: str = ""
    address: str = ""
    municipality: ExportOrganisation | None = None


@dataclass(frozen=True)
class ExportConsultation:
    """The consultation a note documents, as its exports describe it (times are aware; shown in Oslo time).

    ``status`` is the booking's status word (``booked``, ``in_progress``, ``completed``, ``cancelled``...).
    """

    public_id: str
    start: datetime
    end: datetime
    status: str
    place: ExportPlace
    participants: tuple[ExportParticipant, ...] = ()
    consultation_type: str = ""


@dataclass(frozen=True)
class ExportContext:
    """What only exports carry beyond the note's header: the patient's identity and the consultation.

    Read from the database when an export is prepared and pickled to the export worker with the rest,
    so rendering never needs a database.
    """

    patient: ExportSubject
    consultation: ExportConsultation
    other_staff: tuple[ExportParticipant, ...] = ()
    """Staff who wrote, signed or amended the note without taking part in the consultation."""

    def staff(self) -> tuple[ExportParticipant, ...]:
        """The participants, then the other staff: everybody the exports may name as author or signer."""
        return self.consultation.participants + self.other_staff
