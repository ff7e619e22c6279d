"""The benefits report: consultations, trips, kilometres, hours, costs, CO2, response times and
outcomes for a period, computed with a few aggregate queries.

The rules (the report page names them too):

- **In the period**: a consultation (booking) counts by its start, as a Europe/Oslo date; months are
  Europe/Oslo calendar months.
- **Held** is status completed; **cancelled** and **no-show** their statuses; **upcoming** the rest
  (booked, arrived, in progress). Only held consultations save anything.
- **Video share**: held / (held + cancelled + no-show), against the trust's target. **Home share**: held
  with the patient at home / held, against the home target.
- **Municipality** of a consultation: the municipality of its health room; without a room, the
  organisation of its municipal nurse; without either, the patient's home municipality.
- **Hospital** the patient would otherwise have travelled to: the referral's "otherwise hospital" when it
  names a hospital organisation (same name, ignoring case, or the one hospital whose name contains it);
  otherwise the organisation of the hospital specialist booked.
- **Department**: the booked specialist's department, else the department the consultation type asks for.
- **Trips avoided** per held consultation: 1 (the patient) + 1 if the referral says an escort was needed
  + 1 if the municipal nurse would have gone along. Each is a round trip.
- **Kilometres**: 2 × the one-way distance from the municipality's centre to that hospital × trips
  (person-kilometres). Held consultations with no travel row for the pair count in
  ``held_without_travel_data`` and add no kilometres.
- **Travel hours**: 2 × the one-way door-to-door minutes (ferries and waiting included) × trips; without
  a travel row, the referral's own "travel time there and back" is used for the hours when given.
- **Patient travel cost** (NOK): the per-km rate × the patient's kilometres, plus the escort's when the
  settings count them (the patient travel scheme pays one of the two by default).
- **CO2** (kg): the kg-per-km setting × all kilometres.
- **Staff hours**: the nurse's travel hours, where she would have gone along.
- **Response times** per urgency, over held consultations that came from a referral: received (the
  referral's creation) → booked (its first booking's creation) → held (the consultation's start); median
  and 90th percentile (linear interpolation, as PostgreSQL's ``percentile_cont``) in hours, and the share
  held within the urgency's target.
- **Outcomes**: counts of what staff recorded for the held consultations.

Every count under five is hidden by the result types (``report.Count``), and so is everything derived
from it. In a breakdown (months, municipalities, types, departments), when exactly one row's held count
is hidden, the row with the next smallest count is hidden whole as well, so that the hidden one cannot
be worked out as the total minus the others.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, false, func, literal, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import Subquery

from scheduling.benefits import periods
from scheduling.benefits.access import REPORT_ROLES, require
from scheduling.benefits.report import (
    SMALL_CELL_LIMIT,
    Amount,
    BenefitsReport,
    BreakdownRow,
    Count,
    Figures,
    Filters,
    MonthRow,
    Outcomes,
    Period,
    ResponseTimes,
    Share,
    Unit,
)
from scheduling.benefits.settings import BenefitSettings, read_settings
from scheduling.models import (
    AdmissionAvoided,
    Booking,
    BookingStatus,
    ConsultationOutcome,
    ConsultationType,
    FollowUp,
    Referral,
    RequirementKind,
    Reservation,
    Resource,
    ResourceKind,
    TypeRequirement,
    Urgency,
)
from server.people.models import Department, MunicipalityTravel, Organisation, Patient
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.clock import Clock
from server.platform.errors import ValidationFailed
from server.platform.roles import OrganisationKind

__all__ = ["REPORT_ROLES", "BenefitsService", "percentile"]

_UPCOMING = (BookingStatus.BOOKED, BookingStatus.ARRIVED, BookingStatus.IN_PROGRESS)


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of sorted values by linear interpolation between closest ranks."""
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class _Sums:
    """Additive sums of one group of consultations; every cell of the report is a sum of these."""

    consultations: int = 0
    held: int = 0
    cancelled: int = 0
    no_show: int = 0
    upcoming: int = 0
    held_at_home: int = 0
    escort_trips: int = 0
    nurse_trips: int = 0
    held_without_travel: int = 0
    patient_km: float = 0.0  # one way, summed over held consultations
    escort_km: float = 0.0
    nurse_km: float = 0.0
    patient_minutes: float = 0.0  # one way
    escort_minutes: float = 0.0
    nurse_minutes: float = 0.0
    recorded: int = 0  # held consultations with an outcome recorded
    admission: Counter[AdmissionAvoided] = field(default_factory=Counter)
    follow_up: Counter[FollowUp] = field(default_factory=Counter)

    def add(self, other: _Sums) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _seconds_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        # stored as naive UTC text (see UTCDateTime); julianday reads it
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


class BenefitsService:
    """Computes the benefits report; for team leaders and administrators, every view audited."""

    def __init__(self, clock: Clock, audit: AuditLog) -> None:
        self._clock = clock
        self._audit = audit

    async def report(self, session: AsyncSession, actor: Actor, period: Period,
                     filters: Filters | None = None) -> BenefitsReport:
        """The report for ``period`` narrowed by ``filters`` (ids of a municipality, consultation type,
        department; unknown ids are refused with field codes). Records one audit row naming the
        period and filters, never a patient."""
        require(actor, *REPORT_ROLES, what="see the benefits report")
        filters = await self._named_filters(session, filters or Filters())
        settings = await read_settings(session)
        dialect = session.get_bind().dialect.name
        facts = await self._facts(session, period, filters)
        months = periods.month_starts(period)
        cube = await self._cube(session, facts, period, months)
        totals = _Sums()
        by_month: dict[int, _Sums] = defaultdict(_Sums)
        by_dim: dict[str, dict[int | None, _Sums]] = {
            "municipality": defaultdict(_Sums), "type": defaultdict(_Sums), "department": defaultdict(_Sums)}
        for (month, municipality, ctype, department), sums in cube.items():
            totals.add(sums)
            by_month[month].add(sums)
            by_dim["municipality"][municipality].add(sums)
            by_dim["type"][ctype].add(sums)
            by_dim["department"][department].add(sums)
        month_sums = [by_month.get(i, _Sums()) for i in range(len(months))]
        month_rows = [MonthRow(first, _figures(sums, settings, hide))
                      for first, sums, hide in zip(months, month_sums, _protect_rows(month_sums), strict=True)]
        names = await self._names(session, by_dim)
        report = BenefitsReport(
            period=period, filters=filters, settings=settings.used(), generated_at=self._clock.now(),
            totals=_figures(totals, settings), months=tuple(month_rows),
            by_municipality=_breakdown(by_dim["municipality"], names["municipality"], settings),
            by_consultation_type=_breakdown(by_dim["type"], names["type"], settings),
            by_department=_breakdown(by_dim["department"], names["department"], settings),
            response_times=await self._response_times(
                session, facts if filters.municipality_id or filters.department_id else self._referred(period, filters),
                settings, dialect),
            outcomes=_outcomes(totals),
        )
        await self._audit.record(session, actor, action="view", object_type="benefits_report",
                                 object_id=_audit_object(period, filters))
        return report

    # ------------------------------------------------------------------------------ the queries

    async def _named_filters(self, session: AsyncSession, filters: Filters) -> Filters:
        problems: dict[str, str] = {}
        municipality = type_name = department = ""
        if filters.municipality_id is not None:
            org = await session.get(Organisation, filters.municipality_id)
            if org is None or org.kind != OrganisationKind.MUNICIPALITY:
                problems["municipality"] = "unknown_municipality"
            else:
                municipality = org.name
        if filters.consultation_type_id is not None:
            ctype = await session.get(ConsultationType, filters.consultation_type_id)
            if ctype is None:
                problems["consultation_type"] = "unknown_consultation_type"
            else:
                type_name = ctype.name
        if filters.department_id is not None:
            dept = await session.get(Department, filters.department_id)
            if dept is None:
                problems["department"] = "unknown_department"
            else:
                department = dept.name
        if problems:
            raise ValidationFailed("the report's filter names something unknown", problems)
        return Filters(filters.municipality_id, filters.consultation_type_id, filters.department_id,
                       municipality, type_name, department)

    async def _hospital_of_text(self, session: AsyncSession, start: Any, end: Any) -> ColumnElement[Any]:
        """An expression giving the hospital id the referral's free-text "otherwise hospital" names."""
        hospitals = (await session.execute(select(Organisation.id, Organisation.name).where(
            Organisation.kind == OrganisationKind.HOSPITAL))).all()
        typed = (await session.execute(select(Referral.otherwise_hospital).distinct().join(
            Booking, Booking.referral_id == Referral.id).where(
            Booking.start >= start, Booking.start < end, Referral.otherwise_hospital != ""))).scalars().all()
        matches: dict[str, int] = {}
        for text in typed:
            hospital = _match_hospital(text, hospitals)
            if hospital is not None:
                matches[text] = hospital
        if not matches:
            return literal(None)
        return case(matches, value=Referral.otherwise_hospital, else_=None)

    async def _facts(self, session: AsyncSession, period: Period, filters: Filters) -> Subquery:
        """One row per consultation starting in the period (after the filters), with what the sums need."""
        start, end = periods.bounds(period)
        # who and what each consultation reserved, one row per booking in one grouped pass over the
        # reservations (correlated lookups per booking cost several times as much on 10,000 bookings);
        # should a booking hold two rooms or two nurses, the lowest organisation id is taken
        is_room = Resource.kind == ResourceKind.HEALTH_ROOM
        is_person = Resource.kind == ResourceKind.PERSON
        at_hospital = and_(is_person, Organisation.kind == OrganisationKind.HOSPITAL)
        reserved = (
            select(
                Reservation.booking_id.label("booking_id"),
                func.min(case((is_room, func.coalesce(Resource.municipality_id, Resource.organisation_id))))
                .label("room_municipality"),
                func.min(case((and_(is_person, Organisation.kind == OrganisationKind.MUNICIPALITY),
                               Resource.organisation_id))).label("nurse_municipality"),
                func.min(case((at_hospital, Resource.organisation_id))).label("specialist_hospital"),
                func.min(case((at_hospital, Resource.department_id))).label("specialist_department"),
            )
            .join(Resource, Resource.id == Reservation.resource_id)
            .join(Organisation, Organisation.id == Resource.organisation_id)
            # IN rather than a join: the reservations stay in booking order, so no sort for the grouping
            .where(Reservation.booking_id.in_(select(Booking.id).where(Booking.start >= start, Booking.start < end)))
            .group_by(Reservation.booking_id)
            .subquery("reserved"))
        type_department = (
            select(TypeRequirement.consultation_type_id.label("type_id"),
                   func.min(TypeRequirement.department_id).label("department_id"))
            .where(TypeRequirement.kind == RequirementKind.DEPARTMENT_SPECIALIST,
                   TypeRequirement.department_id.is_not(None))
            .group_by(TypeRequirement.consultation_type_id)
            .subquery("type_department"))
        otherwise = await self._hospital_of_text(session, start, end)
        query = (
            select(
                Booking.id.label("booking_id"),
                Booking.status.label("status"),
                Booking.consultation_type_id.label("consultation_type_id"),
                Booking.start.label("start"),
                Booking.patient_at_home.label("at_home"),
                func.coalesce(Referral.escort_needed, false()).label("escort"),
                func.coalesce(Referral.nurse_would_travel, false()).label("nurse"),
                Referral.id.label("referral_id"),
                Referral.urgency.label("urgency"),
                Referral.created_at.label("received"),
                Referral.travel_hours.label("referral_hours"),
                ConsultationOutcome.admission_avoided.label("admission_avoided"),
                ConsultationOutcome.follow_up.label("follow_up"),
                func.coalesce(reserved.c.room_municipality, reserved.c.nurse_municipality,
                              Patient.home_municipality_id).label("municipality"),
                func.coalesce(otherwise, reserved.c.specialist_hospital).label("hospital"),
                func.coalesce(reserved.c.specialist_department, type_department.c.department_id).label("department"),
            )
            .join(Patient, Patient.id == Booking.patient_id)
            .outerjoin(Referral, Referral.id == Booking.referral_id)
            .outerjoin(reserved, reserved.c.booking_id == Booking.id)
            .outerjoin(ConsultationOutcome, ConsultationOutcome.booking_id == Booking.id)
            .outerjoin(type_department, type_department.c.type_id == Booking.consultation_type_id)
            .where(Booking.start >= start, Booking.start < end)
        )
        if filters.consultation_type_id is not None:
            query = query.where(Booking.consultation_type_id == filters.consultation_type_id)
        facts = query.subquery("facts")
        narrowed = select(facts)
        if filters.municipality_id is not None:
            narrowed = narrowed.where(facts.c.municipality == filters.municipality_id)
        if filters.department_id is not None:
            narrowed = narrowed.where(facts.c.department == filters.department_id)
        return narrowed.subquery("narrowed")

    def _referred(self, period: Period, filters: Filters) -> Subquery:
        """The consultations from a referral starting in the period, with what response times need: a
        lighter stand-in for the facts when the report is not narrowed by municipality or department."""
        start, end = periods.bounds(period)
        query = (select(Booking.status.label("status"), Booking.start.label("start"),
                        Referral.id.label("referral_id"), Referral.urgency.label("urgency"),
                        Referral.created_at.label("received"))
                 .join(Referral, Referral.id == Booking.referral_id)
                 .where(Booking.start >= start, Booking.start < end))
        if filters.consultation_type_id is not None:
            query = query.where(Booking.consultation_type_id == filters.consultation_type_id)
        return query.subquery("referred")

    async def _cube(self, session: AsyncSession, facts: Subquery, period: Period,
                    months: list[date]) -> dict[tuple[int, int | None, int, int | None], _Sums]:
        """The sums grouped by month, municipality, type, department, status and place: a few hundred rows
        at most, rolled up in Python into every cell (sums add up exactly)."""
        f = facts.c
        month = case(*[(f.start < periods.local_midnight_utc(first), i - 1)
                       for i, first in enumerate(months[1:], start=1)], else_=len(months) - 1) \
            if len(months) > 1 else literal(0)
        travel = MunicipalityTravel
        has_travel = travel.id.is_not(None)
        escort = case((f.escort, 1), else_=0)
        nurse = case((f.nurse, 1), else_=0)
        km = func.coalesce(travel.distance_km, 0.0)
        # one-way minutes: the travel row's door-to-door time, else half the referral's round trip
        minutes = func.coalesce(travel.travel_minutes, f.referral_hours * 30.0, 0.0)
        month_col = month.label("month")
        query = (
            select(
                month_col, f.municipality, f.consultation_type_id, f.department, f.status, f.at_home,
                func.count().label("n"),
                func.sum(escort).label("escorts"),
                func.sum(nurse).label("nurses"),
                func.sum(case((has_travel, 0), else_=1)).label("without_travel"),
                func.sum(km).label("km"),
                func.sum(km * escort).label("escort_km"),
                func.sum(km * nurse).label("nurse_km"),
                func.sum(minutes).label("minutes"),
                func.sum(minutes * escort).label("escort_minutes"),
                func.sum(minutes * nurse).label("nurse_minutes"),
                func.count(f.admission_avoided).label("recorded"),
                *[func.sum(case((f.admission_avoided == a, 1), else_=0)).label(f"admission_{a.value}")
                  for a in AdmissionAvoided],
                # no follow-up code is part of another, so a plain substring test finds each in the list
                *[func.sum(case((f.follow_up.like(f"%{c.value}%"), 1), else_=0)).label(f"follow_up_{c.value}")
                  for c in FollowUp],
            )
            .select_from(facts.outerjoin(travel, and_(travel.municipality_id == f.municipality,
                                                       travel.hospital_id == f.hospital)))
            .group_by(month_col, f.municipality, f.consultation_type_id, f.department, f.status, f.at_home)
        )
        cube: dict[tuple[int, int | None, int, int | None], _Sums] = defaultdict(_Sums)
        for row in (await session.execute(query)).all():
            sums = cube[(int(row.month), row.municipality, row.consultation_type_id, row.department)]
            n = int(row.n)
            sums.consultations += n
            status = BookingStatus(row.status)
            if status is BookingStatus.CANCELLED:
                sums.cancelled += n
            elif status is BookingStatus.NO_SHOW:
                sums.no_show += n
            elif status in _UPCOMING:
                sums.upcoming += n
            else:
                sums.held += n
                sums.held_at_home += n if row.at_home else 0
                sums.escort_trips += int(row.escorts or 0)
                sums.nurse_trips += int(row.nurses or 0)
                sums.held_without_travel += int(row.without_travel or 0)
                sums.patient_km += float(row.km or 0)
                sums.escort_km += float(row.escort_km or 0)
                sums.nurse_km += float(row.nurse_km or 0)
                sums.patient_minutes += float(row.minutes or 0)
                sums.escort_minutes += float(row.escort_minutes or 0)
                sums.nurse_minutes += float(row.nurse_minutes or 0)
                sums.recorded += int(row.recorded or 0)
                for a in AdmissionAvoided:
                    sums.admission[a] += int(getattr(row, f"admission_{a.value}") or 0)
                for c in FollowUp:
                    sums.follow_up[c] += int(getattr(row, f"follow_up_{c.value}") or 0)
        return cube

    async def _response_times(self, session: AsyncSession, facts: Subquery, settings: BenefitSettings,
                              dialect: str) -> tuple[ResponseTimes, ...]:
        f = facts.c
        # when the referral was first booked: its earliest booking, wherever that booking starts (looked up
        # per held consultation through the index on referral_id; cheaper than grouping every booking)
        other = Booking.__table__.alias("other_booking")
        first = select(func.min(other.c.created_at)).where(other.c.referral_id == f.referral_id).scalar_subquery()
        # the urgency as its stored text: converting 10,000 values to the enum one by one costs more than
        # the query
        query = (select(type_coerce(f.urgency, String), _seconds_between(first, f.received, dialect),
                        _seconds_between(f.start, f.received, dialect))
                 .where(f.status == BookingStatus.COMPLETED, f.referral_id.is_not(None)))
        booked: dict[Urgency, list[float]] = defaultdict(list)
        held: dict[Urgency, list[float]] = defaultdict(list)
        for urgency, to_booked, to_held in (await session.execute(query)).all():
            booked[Urgency(urgency)].append(max(0.0, float(to_booked)) / 3600)
            held[Urgency(urgency)].append(max(0.0, float(to_held)) / 3600)
        targets = settings.target_days()
        result = []
        for urgency in Urgency:
            hours_booked, hours_held = sorted(booked[urgency]), sorted(held[urgency])
            count = Count.of(len(hours_held))
            within = Count.of(sum(1 for h in hours_held if h <= targets[urgency] * 24))

            def stat(values: list[float], q: float, basis: Count = count) -> Amount:
                return Amount.of(percentile(values, q) if values else 0.0, Unit.HOURS, basis=basis)

            result.append(ResponseTimes(
                urgency=urgency, consultations=count, target_days=targets[urgency],
                received_to_booked_median=stat(hours_booked, 0.5), received_to_booked_p90=stat(hours_booked, 0.9),
                received_to_held_median=stat(hours_held, 0.5), received_to_held_p90=stat(hours_held, 0.9),
                within_target=Share.of(within, count, None)))
        return tuple(result)

    async def _names(self, session: AsyncSession,
                     by_dim: Mapping[str, Mapping[int | None, _Sums]]) -> dict[str, dict[int, tuple[str, str]]]:
        names: dict[str, dict[int, tuple[str, str]]] = {"municipality": {}, "type": {}, "department": {}}
        ids = {k: [i for i in v if i is not None] for k, v in by_dim.items()}
        if ids["municipality"]:
            for oid, name in (await session.execute(select(Organisation.id, Organisation.name).where(
                    Organisation.id.in_(ids["municipality"])))).all():
                names["municipality"][oid] = (name, "")
        if ids["type"]:
            for tid, name, name_en in (await session.execute(select(
                    ConsultationType.id, ConsultationType.name, ConsultationType.name_en).where(
                    ConsultationType.id.in_(ids["type"])))).all():
                names["type"][tid] = (name, name_en)
        if ids["department"]:
            for did, name, org in (await session.execute(select(
                    Department.id, Department.name, Organisation.name).join(
                    Organisation, Organisation.id == Department.organisation_id).where(
                    Department.id.in_(ids["department"])))).all():
                names["department"][did] = (f"{name}, {org}", "")
        return names


# ---------------------------------------------------------------------------------- pure parts

def _match_hospital(text: str, hospitals: Iterable[tuple[int, str]]) -> int | None:
    """The hospital a typed name means: the same name ignoring case and spaces, else the one hospital
    whose name contains the text (or is contained in it); None when none or several fit."""
    wanted = " ".join(text.split()).casefold()
    if not wanted:
        return None
    candidates = [(hid, " ".join(name.split()).casefold()) for hid, name in hospitals]
    exact = [hid for hid, name in candidates if name == wanted]
    if exact:
        return exact[0]
    partial = [hid for hid, name in candidates if wanted in name or name in wanted]
    return partial[0] if len(partial) == 1 else None


_STATUS_PARTS = ("held", "cancelled", "no_show", "upcoming")  # add up to "consultations"
_ACROSS_ROWS = ("consultations", "held", "cancelled", "no_show", "upcoming", "held_at_home", "escort_trips",
                "nurse_trips", "held_without_travel")
"""The counts whose rows add up to the total in a breakdown, each protected across the rows."""


def _counts(s: _Sums) -> dict[str, int]:
    return {"consultations": s.consultations, "held": s.held, "cancelled": s.cancelled, "no_show": s.no_show,
            "upcoming": s.upcoming, "held_at_home": s.held_at_home, "escort_trips": s.escort_trips,
            "nurse_trips": s.nurse_trips, "held_without_travel": s.held_without_travel}


def _complement(values: Sequence[int], hidden: Sequence[bool]) -> list[bool]:
    """Parts of a whole that is shown: when exactly one part is hidden (under the limit, or already
    hidden) and it is not zero, the smallest shown part is hidden as well, else the whole minus the shown
    parts gives it away. Returns the parts to hide now. (A zero given away names nobody.)"""
    shown_as_hidden = [h or v < SMALL_CELL_LIMIT for v, h in zip(values, hidden, strict=True)]
    extra = [False] * len(values)
    alone = [i for i, h in enumerate(shown_as_hidden) if h]
    if len(alone) == 1 and values[alone[0]] > 0:
        others = sorted((v, i) for i, v in enumerate(values) if not shown_as_hidden[i])
        if others:
            extra[others[0][1]] = True
    return extra


def _figures(s: _Sums, settings: BenefitSettings, hide: frozenset[str] = frozenset()) -> Figures:
    """One cell's figures from its sums. ``hide``: counts to hide whatever their size (the complementary
    rule across a breakdown's rows); within the cell the statuses, which add up to the consultations, and
    the escorts' and nurses' trips, which add up to the trips with the patients', are protected the same way."""
    counts = _counts(s)
    hidden = set(hide)
    for name, extra in zip(_STATUS_PARTS, _complement([counts[n] for n in _STATUS_PARTS],
                                                       [n in hidden for n in _STATUS_PARTS]), strict=True):
        if extra:
            hidden.add(name)
    companions = ("escort_trips", "nurse_trips")
    for name, extra in zip(companions, _complement([counts[n] for n in companions],
                                                    [n in hidden for n in companions]), strict=True):
        if extra:
            hidden.add(name)

    def count(name: str, n: int) -> Count:
        c = Count.of(n)
        return c.hidden() if name in hidden else c

    held = count("held", s.held)
    # the trips are the held consultations plus escorts and nurses: hidden with the held ones
    trips = count("held", s.held + s.escort_trips + s.nurse_trips)
    km = 2 * (s.patient_km + s.escort_km + s.nurse_km)
    hours = 2 * (s.patient_minutes + s.escort_minutes + s.nurse_minutes) / 60
    cost_km = 2 * (s.patient_km + (s.escort_km if settings.escort_cost_counted else 0.0))
    booked_and_due = Count.of(s.held + s.cancelled + s.no_show)
    if held.suppressed:
        booked_and_due = booked_and_due.hidden()
    at_home = count("held_at_home", s.held_at_home)
    return Figures(
        consultations=count("consultations", s.consultations), held=held,
        cancelled=count("cancelled", s.cancelled), no_show=count("no_show", s.no_show),
        upcoming=count("upcoming", s.upcoming), held_at_home=at_home,
        video_share=Share.of(held, booked_and_due, settings.video_share_target),
        home_share=Share.of(at_home, held, settings.home_share_target),
        trips_avoided=trips, patient_trips_avoided=held, escort_trips_avoided=count("escort_trips", s.escort_trips),
        nurse_trips_avoided=count("nurse_trips", s.nurse_trips),
        km_avoided=Amount.of(round(km, 1), Unit.KM, basis=held),
        travel_hours_avoided=Amount.of(round(hours, 1), Unit.HOURS, basis=held),
        travel_cost_avoided_nok=Amount.of(round(cost_km * settings.cost_per_km_nok), Unit.NOK, basis=held),
        co2_avoided_kg=Amount.of(round(km * settings.co2_kg_per_km, 1), Unit.KG_CO2, basis=held),
        staff_hours_avoided=Amount.of(round(2 * s.nurse_minutes / 60, 1), Unit.HOURS, basis=held),
        held_without_travel_data=count("held_without_travel", s.held_without_travel),
    )


def _outcomes(totals: _Sums) -> Outcomes:
    """The outcomes; the three answers add up to those recorded, so they are protected as parts of it."""
    answers = list(AdmissionAvoided)
    values = [totals.admission[a] for a in answers]
    extra = _complement(values, [False] * len(values))
    admission = {a: Count.of(v).hidden() if more else Count.of(v)
                 for a, v, more in zip(answers, values, extra, strict=True)}
    return Outcomes(held=Count.of(totals.held), recorded=Count.of(totals.recorded), admission_avoided=admission,
                    follow_up={c: Count.of(totals.follow_up[c]) for c in FollowUp})


def _protect_rows(cells: Sequence[_Sums]) -> list[frozenset[str]]:
    """For each row of a breakdown, the counts to hide so that no hidden row can be worked out from the
    total and the other rows (one pass per count)."""
    hide: list[set[str]] = [set() for _ in cells]
    for name in _ACROSS_ROWS:
        values = [_counts(c)[name] for c in cells]
        for row, extra in enumerate(_complement(values, [False] * len(values))):
            if extra:
                hide[row].add(name)
    return [frozenset(h) for h in hide]


def _breakdown(groups: Mapping[int | None, _Sums], names: Mapping[int, tuple[str, str]],
               settings: BenefitSettings) -> tuple[BreakdownRow, ...]:
    keys = sorted(groups, key=lambda k: (k is None, names.get(k, ("", ""))[0].casefold() if k else "", k or 0))
    hidden = _protect_rows([groups[k] for k in keys])
    return tuple(BreakdownRow(id=k, name=names.get(k, ("", ""))[0] if k is not None else "",
                              name_en=names.get(k, ("", ""))[1] if k is not None else "",
                              figures=_figures(groups[k], settings, hide))
                 for k, hide in zip(keys, hidden, strict=True))


def _audit_object(period: Period, filters: Filters) -> str:
    """What was viewed, within the audit log's 64 characters: the period and the filters' ids
    ("2026-03-01..2026-04-30 m=12 t=3 d=4": municipality, consultation type, department)."""
    parts = [f"{period.first_day.isoformat()}..{period.last_day.isoformat()}"]
    for name, value in (("m", filters.municipality_id), ("t", filters.consultation_type_id),
                        ("d", filters.department_id)):
        if value is not None:
            parts.append(f"{name}={value}")
    return " ".join(parts)

