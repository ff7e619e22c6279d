"""The typed inputs and outputs of the scheduling services (frozen dataclasses, no ORM objects).

Handlers in ``web/`` build the inputs from requests and render the outputs; they never see a row.
Identifiers that appear in URLs (patients, referrals, bookings) are the unguessable ``public_id``s;
resources and consultation types are configuration and use their integer ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from scheduling import booking_rules
from scheduling.models import (
    AdmissionAvoided,
    BookingStatus,
    CalendarSourceKind,
    ExceptionKindDb,
    FollowUp,
    ReferralStatus,
    RequirementKind,
    ResourceKind,
    Urgency,
)
from server.platform.local_time import OSLO_TZ_NAME

# ---------------------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class ResourceInput:
    """A new person, health room or equipment resource."""

    kind: ResourceKind
    name: str
    organisation_id: int
    user_id: int | None = None
    department_id: int | None = None
    profession: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    municipality_id: int | None = None
    email: str = ""
    timezone: str = OSLO_TZ_NAME
    equipment_codes: tuple[str, ...] = ()
    closed_on_public_holidays: bool = True


@dataclass(frozen=True)
class ResourceView:
    id: int
    kind: ResourceKind
    name: str
    organisation_id: int
    user_id: int | None
    department_id: int | None
    profession: str
    address: str
    latitude: float | None
    longitude: float | None
    municipality_id: int | None
    email: str
    timezone: str
    equipment_codes: tuple[str, ...]
    active: bool
    located_in_id: int | None = None


@dataclass(frozen=True)
class HoursInput:
    """One open range on a weekday (0 = Monday); ``end`` of 00:00 means midnight at the end of the day."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class ExceptionInput:
    """A dated exception: ``closed`` (all day without a range) or ``extra`` hours (range required)."""

    day: date
    kind: ExceptionKindDb
    start: time | None = None
    end: time | None = None
    note: str = ""


@dataclass(frozen=True)
class ExceptionView:
    id: int
    day: date
    kind: ExceptionKindDb
    start: time | None
    end: time | None
    note: str


@dataclass(frozen=True)
class CalendarSourceView:
    id: int
    resource_id: int
    kind: CalendarSourceKind
    url: str
    last_good_import_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str
    occurrences: int


@dataclass(frozen=True)
class CalendarImportResult:
    """What an import kept: busy intervals stored, occurrences read, events ignored."""

    source_id: int
    intervals: int
    occurrences: int
    ignored_free: int
    ignored_cancelled: int
    imported_at: datetime


# ------------------------------------------------------------------------------ consultation types


@dataclass(frozen=True)
class RequirementInput:
    """One required participant: see :class:`scheduling.models.RequirementKind`."""

    key: str
    kind: RequirementKind
    resource_id: int | None = None
    department_id: int | None = None
    equipment_codes: tuple[str, ...] = ()
    profession: str = ""


@dataclass(frozen=True)
class ConsultationTypeInput:
    code: str
    name: str
    duration_minutes: int
    requirements: tuple[RequirementInput, ...]
    name_en: str = ""
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0


@dataclass(frozen=True)
class ConsultationTypeView:
    id: int
    code: str
    name: str
    name_en: str
    duration: timedelta
    buffer_before: timedelta
    buffer_after: timedelta
    min_notice: timedelta
    requirements: tuple[RequirementInput, ...]

    @property
    def patient_at_home(self) -> bool:
        return any(r.kind is RequirementKind.PATIENT_HOME for r in self.requirements)


# ------------------------------------------------------------------------------------- slot search


@dataclass(frozen=True)
class SlotSearchInput:
    """Find the earliest slots of a consultation type in ``[window_start, window_end)``.

    ``municipality_id`` is where the consultation takes place (the patient's home municipality):
    it picks the health rooms and the nurses for "a nurse of the room's municipality".
    """

    consultation_type_id: int
    window_start: datetime
    window_end: datetime
    municipality_id: int | None = None
    limit: int = 10
    step_minutes: int = 15


@dataclass(frozen=True)
class SlotParticipant:
    requirement_key: str
    resource_id: int
    name: str
    kind: ResourceKind


@dataclass(frozen=True)
class SlotView:
    """A bookable time and the resource proposed for each requirement."""

    start: datetime
    end: datetime
    blocked_start: datetime
    blocked_end: datetime
    participants: tuple[SlotParticipant, ...]

    @property
    def chosen(self) -> tuple[tuple[str, int], ...]:
        """``(requirement key, resource id)`` pairs, as :class:`BookRequest` takes them."""
        return tuple((p.requirement_key, p.resource_id) for p in self.participants)


@dataclass(frozen=True)
class CandidateSet:
    """The resources that may fill one requirement (for the slot finder's side-by-side view)."""

    requirement_key: str
    kind: RequirementKind
    resource_ids: tuple[int, ...]


@dataclass(frozen=True)
class FreeBusyView:
    """One resource's open hours and busy times in a window (UTC pairs), for week calendars."""

    resource_id: int
    name: str
    open: tuple[tuple[datetime, datetime], ...]
    busy: tuple[tuple[datetime, datetime], ...]


# ---------------------------------------------------------------------------------------- referrals


@dataclass(frozen=True)
class ReferralInput:
    patient_public_id: str
    reason: str
    urgency: Urgency
    what_matters: str = ""
    wished_participants: str = ""
    consultation_type_id: int | None = None
    otherwise_hospital: str = ""
    travel_hours: float | None = None
    escort_needed: bool = False
    """The patient could not have travelled alone: an escort's trip is spared too."""
    nurse_would_travel: bool = False
    """The municipal nurse would have gone along to the hospital."""


@dataclass(frozen=True)
class ReferralView:
    public_id: str
    patient_id: int
    patient_public_id: str
    patient_name: str
    reason: str
    urgency: Urgency
    what_matters: str
    wished_participants: str
    consultation_type_id: int | None
    referred_by_name: str
    referring_organisation_name: str
    otherwise_hospital: str
    travel_hours: float | None
    status: ReferralStatus
    created_at: datetime
    responded_at: datetime | None
    due_at: datetime
    escort_needed: bool = False
    nurse_would_travel: bool = False

    @property
    def response_time(self) -> timedelta | None:
        """From referral to booking; ``None`` while nobody has responded."""
        return None if self.responded_at is None else self.responded_at - self.created_at


@dataclass(frozen=True)
class QueueEntry:
    """A referral in the coordinators' queue, with the response time running."""

    referral: ReferralView
    waited: timedelta
    remaining: timedelta  # negative when overdue

    @property
    def overdue(self) -> bool:
        return self.remaining < timedelta(0)


# ----------------------------------------------------------------------------------------- bookings


@dataclass(frozen=True)
class BookRequest:
    """Book a slot. Give ``referral_public_id`` (the patient comes from it) or ``patient_public_id``.

    ``chosen`` pairs each requirement key of the type with a resource id, as :attr:`SlotView.chosen`.
    """

    consultation_type_id: int
    start: datetime
    chosen: tuple[tuple[str, int], ...]
    referral_public_id: str | None = None
    patient_public_id: str | None = None
    municipality_id: int | None = None


@dataclass(frozen=True)
class RescheduleRequest:
    """Move a booking; ``chosen`` may swap resources, ``None`` keeps the current ones."""

    start: datetime
    chosen: tuple[tuple[str, int], ...] | None = None


@dataclass(frozen=True)
class ParticipantView:
    requirement_key: str
    resource_id: int
    name: str
    kind: ResourceKind
    user_id: int | None


@dataclass(frozen=True)
class OutcomeView:
    """What followed a held consultation, as staff recorded it (for the benefits report)."""

    admission_avoided: AdmissionAvoided
    follow_up: tuple[FollowUp, ...]
    recorded_by_name: str
    recorded_at: datetime


@dataclass(frozen=True)
class BookingView:
    """A booking as handlers show it; ``replayed`` is true for an answer given again for the same
    ``Idempotency-Key``."""

    public_id: str
    status: BookingStatus
    start: datetime
    end: datetime
    blocked_start: datetime
    blocked_end: datetime
    consultation_type_id: int
    consultation_type_name: str
    patient_id: int
    patient_public_id: str
    patient_name: str
    referral_public_id: str | None
    participants: tuple[ParticipantView, ...]
    patient_at_home: bool
    sequence: int
    ical_uid: str
    cancel_reason: str
    created_at: datetime
    updated_at: datetime
    replayed: bool = False
    consultation_type_name_en: str = ""
    """The kind's English name, for English pages ("" when it has none)."""
    outcome: OutcomeView | None = None
    """What followed, once staff recorded it (completed consultations only)."""

    # What may happen next, from the one home of the status rules (scheduling/booking_rules.py).
    @property
    def next_statuses(self) -> tuple[BookingStatus, ...]:
        return booking_rules.next_statuses(self.status)

    @property
    def may_reschedule(self) -> bool:
        return booking_rules.may_reschedule(self.status)

    @property
    def may_cancel(self) -> bool:
        return booking_rules.may_cancel(self.status)

    @property
    def joinable(self) -> bool:
        return booking_rules.joinable(self.status)

    @property
    def times_moved(self) -> int:
        """How often the time was changed (SEQUENCE counts the moves, and the cancellation if any)."""
        return self.sequence - (1 if self.status is BookingStatus.CANCELLED else 0)

    @property
    def people(self) -> tuple[ParticipantView, ...]:
        """The staff taking part (rooms and equipment left out)."""
        return tuple(p for p in self.participants if p.kind is ResourceKind.PERSON)

    def takes_part(self, user_id: int | None) -> bool:
        """Whether this staff user is one of the people booked (the live room admits only them)."""
        return user_id is not None and any(p.user_id == user_id for p in self.people)


# ------------------------------------------------------------------------------------ outbox, feeds


@dataclass(frozen=True)
class FeedTokenView:
    id: int
    resource_id: int
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class NewFeedToken:
    """A freshly made feed token: ``token`` is shown once and never stored."""

    id: int
    resource_id: int
    token: str
