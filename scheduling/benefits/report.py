"""The result of the benefits report: frozen values that every output (page, charts, PDF, CSV,
XLSX, JSON) renders, and that cannot print a small count.

The small-cell rule: a count under :data:`SMALL_CELL_LIMIT` (zero included) is shown as "<5" in
every output, so that no patient can be picked out of a cell. Figures derived from such a cell
(kilometres, hours, kroner, CO2, response times, shares) would let a reader work the count back out
(kilometres divided by the municipality's distance), so they are hidden with it: an ``Amount`` or a
``Share`` built from a suppressed count is suppressed too.

How the values read in JSON (the API documents the same):

- ``Count``: ``{"value": 12, "suppressed": false}`` or ``{"value": null, "suppressed": true}``
- ``Amount``: ``{"value": 123.4, "unit": "km", "suppressed": false}`` or ``{"value": null, ...}``
- ``Share``: ``{"value": 0.42, "target": 0.3, "meets_target": true, "suppressed": false}``; ``value``
  is null when suppressed or when nothing was counted (``meets_target`` null then too).

A count of five or more can be hidden too, when showing it would give a small neighbour away (a total
minus the other cells); it reads ":" (Statistics Norway's sign for "not shown, for confidentiality")
instead of "<5", which would be untrue of it. ``below_limit`` in JSON tells the two apart.

The exact number inside a ``Count`` or ``Amount`` is private: outputs use :meth:`Count.display`,
:attr:`Count.value` or :meth:`Count.as_json`, each of which hides a suppressed value.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from scheduling.models import AdmissionAvoided, FollowUp, Urgency

__all__ = [
    "HIDDEN_TEXT",
    "SMALL_CELL_LIMIT",
    "SUPPRESSED_TEXT",
    "Amount",
    "BenefitsReport",
    "Breakdown",
    "BreakdownRow",
    "Count",
    "Figures",
    "Filters",
    "MonthRow",
    "Outcomes",
    "Period",
    "PeriodKind",
    "ResponseTimes",
    "SettingsUsed",
    "Share",
    "Unit",
]

SMALL_CELL_LIMIT = 5
"""Counts below this are never shown."""

SUPPRESSED_TEXT = "<5"
"""What every output shows instead of a count under the limit (and the figures derived from it)."""
HIDDEN_TEXT = ":"
"""What every output shows instead of a count of five or more hidden to protect a small neighbour."""


@dataclass(frozen=True, slots=True)
class Count:
    """A number of consultations, referrals or trips: hidden as "<5" when under the limit.

    Build it with :meth:`of`; :meth:`hidden` returns the same count forced hidden (used to keep a
    suppressed cell from being worked out as a total minus the other cells)."""

    _exact: int = field(repr=False)
    _forced: bool = field(default=False, repr=False)

    @classmethod
    def of(cls, exact: int) -> Count:
        if exact < 0:
            raise ValueError("a count cannot be negative")
        return cls(exact)

    @property
    def suppressed(self) -> bool:
        return self._forced or self._exact < SMALL_CELL_LIMIT

    @property
    def value(self) -> int | None:
        """The count, or None when it must not be shown."""
        return None if self.suppressed else self._exact

    def hidden(self) -> Count:
        return Count(self._exact, True)

    @property
    def below_limit(self) -> bool:
        """Hidden because it is under the limit (rather than to protect a neighbour)."""
        return self._exact < SMALL_CELL_LIMIT

    def display(self) -> str:
        """The count as text ("<5" under the limit, ":" when hidden to protect a neighbour); numbers are
        formatted by the caller's locale through :attr:`value` when it wants grouping."""
        if self.suppressed:
            return SUPPRESSED_TEXT if self.below_limit else HIDDEN_TEXT
        return str(self._exact)

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "suppressed": self.suppressed, "below_limit": self.below_limit}

    def exact_for_computation(self) -> int:
        """The exact number, for arithmetic inside the report only (shares, roll-ups): never render it."""
        return self._exact

    def __str__(self) -> str:
        return self.display()


class Unit(enum.StrEnum):
    KM = "km"
    HOURS = "hours"
    NOK = "NOK"
    KG_CO2 = "kg_co2"


@dataclass(frozen=True, slots=True)
class Amount:
    """A derived figure (kilometres, hours, kroner, kg CO2), hidden together with the count it comes from."""

    _exact: float = field(repr=False)
    unit: Unit
    suppressed: bool
    below_limit: bool = False

    @classmethod
    def of(cls, exact: float, unit: Unit, *, basis: Count) -> Amount:
        """``basis``: the count of the cell the amount belongs to; the amount is hidden when it is."""
        return cls(exact, unit, basis.suppressed, basis.suppressed and basis.below_limit)

    @property
    def value(self) -> float | None:
        return None if self.suppressed else self._exact

    def display(self, decimals: int = 1) -> str:
        if self.suppressed:
            return SUPPRESSED_TEXT if self.below_limit else HIDDEN_TEXT
        return f"{self._exact:.{decimals}f}"

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit.value, "suppressed": self.suppressed,
                "below_limit": self.below_limit}

    def __str__(self) -> str:
        return self.display()


@dataclass(frozen=True, slots=True)
class Share:
    """A part of a whole (0..1) measured against a target; hidden when its numerator or denominator is."""

    _exact: float | None = field(repr=False)
    target: float | None
    suppressed: bool
    below_limit: bool = False

    @classmethod
    def of(cls, part: Count, whole: Count, target: float | None) -> Share:
        hide = part.suppressed or whole.suppressed
        small = (part.suppressed and part.below_limit) or (whole.suppressed and whole.below_limit)
        total = whole.exact_for_computation()
        exact = part.exact_for_computation() / total if total else None
        return cls(exact, target, hide, small)

    @property
    def value(self) -> float | None:
        return None if self.suppressed else self._exact

    @property
    def meets_target(self) -> bool | None:
        value = self.value
        if value is None or self.target is None:
            return None
        return value >= self.target

    def display(self) -> str:
        """As a whole percentage ("42 %"), "<5" when hidden, "–" when nothing was counted."""
        if self.suppressed:
            return SUPPRESSED_TEXT if self.below_limit else HIDDEN_TEXT
        return "–" if self._exact is None else f"{round(self._exact * 100)} %"

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "target": self.target, "meets_target": self.meets_target,
                "suppressed": self.suppressed, "below_limit": self.below_limit}


class PeriodKind(enum.StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"


@dataclass(frozen=True)
class Period:
    """The dates the report covers, both included, as Europe/Oslo calendar days."""

    first_day: date
    last_day: date
    kind: PeriodKind = PeriodKind.CUSTOM

    def as_json(self) -> dict[str, Any]:
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat(), "kind": self.kind.value}


@dataclass(frozen=True)
class Filters:
    """What the report is narrowed to (None: all). Names are organisations, types and departments."""

    municipality_id: int | None = None
    consultation_type_id: int | None = None
    department_id: int | None = None
    municipality_name: str = ""
    consultation_type_name: str = ""
    department_name: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"municipality": self.municipality_id, "consultation_type": self.consultation_type_id,
                "department": self.department_id}


@dataclass(frozen=True)
class SettingsUsed:
    """The rates and targets the figures were computed with, and where the defaults come from."""

    cost_per_km_nok: float
    cost_per_km_source: str
    escort_cost_counted: bool
    co2_kg_per_km: float
    co2_source: str
    video_share_target: float
    home_share_target: float
    target_days: Mapping[Urgency, float]

    def as_json(self) -> dict[str, Any]:
        return {
            "cost_per_km_nok": self.cost_per_km_nok, "cost_per_km_source": self.cost_per_km_source,
            "escort_cost_counted": self.escort_cost_counted, "co2_kg_per_km": self.co2_kg_per_km,
            "co2_source": self.co2_source, "video_share_target": self.video_share_target,
            "home_share_target": self.home_share_target,
            "target_days": {u.value: self.target_days[u] for u in Urgency},
        }


@dataclass(frozen=True)
class Figures:
    """The figures of one cell: the whole period, one month, one municipality, type or department.

    ``consultations`` are all bookings starting in the cell; ``held`` the completed ones (only they
    save anything); ``upcoming`` those not yet held, cancelled or marked no-show. Trips are one per
    person spared a round trip: the patient, an escort where the referral needed one, the municipal
    nurse where she would have gone along."""

    consultations: Count
    held: Count
    cancelled: Count
    no_show: Count
    upcoming: Count
    held_at_home: Count
    video_share: Share
    home_share: Share
    trips_avoided: Count
    patient_trips_avoided: Count
    escort_trips_avoided: Count
    nurse_trips_avoided: Count
    km_avoided: Amount
    travel_hours_avoided: Amount
    travel_cost_avoided_nok: Amount
    co2_avoided_kg: Amount
    staff_hours_avoided: Amount
    held_without_travel_data: Count

    def as_json(self) -> dict[str, Any]:
        return {
            "consultations": self.consultations.as_json(), "held": self.held.as_json(),
            "cancelled": self.cancelled.as_json(), "no_show": self.no_show.as_json(),
            "upcoming": self.upcoming.as_json(), "held_at_home": self.held_at_home.as_json(),
            "video_share": self.video_share.as_json(), "home_share": self.home_share.as_json(),
            "trips_avoided": self.trips_avoided.as_json(),
            "patient_trips_avoided": self.patient_trips_avoided.as_json(),
            "escort_trips_avoided": self.escort_trips_avoided.as_json(),
            "nurse_trips_avoided": self.nurse_trips_avoided.as_json(),
            "km_avoided": self.km_avoided.as_json(), "travel_hours_avoided": self.travel_hours_avoided.as_json(),
            "travel_cost_avoided_nok": self.travel_cost_avoided_nok.as_json(),
            "co2_avoided_kg": self.co2_avoided_kg.as_json(),
            "staff_hours_avoided": self.staff_hours_avoided.as_json(),
            "held_without_travel_data": self.held_without_travel_data.as_json(),
        }


@dataclass(frozen=True)
class MonthRow:
    """One calendar month (Europe/Oslo) of the period; ``month`` is its first day."""

    month: date
    figures: Figures

    def as_json(self) -> dict[str, Any]:
        return {"month": self.month.strftime("%Y-%m"), **self.figures.as_json()}


class Breakdown(enum.StrEnum):
    MUNICIPALITY = "municipality"
    CONSULTATION_TYPE = "consultation_type"
    DEPARTMENT = "department"


@dataclass(frozen=True)
class BreakdownRow:
    """One municipality, consultation type or department. ``id`` None: not known (a booking with no
    department, say). ``name_en`` is set for consultation types that have an English name."""

    id: int | None
    name: str
    name_en: str
    figures: Figures

    def label(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "name_en": self.name_en, **self.figures.as_json()}


@dataclass(frozen=True)
class ResponseTimes:
    """How fast referrals of one urgency were answered, over the held consultations in the period
    that came from a referral: received (referral created) -> booked (its first booking made) ->
    held (the consultation's start). Medians and 90th percentiles in hours; ``within_target`` is the
    share held within the urgency's target."""

    urgency: Urgency
    consultations: Count
    target_days: float
    received_to_booked_median: Amount
    received_to_booked_p90: Amount
    received_to_held_median: Amount
    received_to_held_p90: Amount
    within_target: Share

    def as_json(self) -> dict[str, Any]:
        return {
            "urgency": self.urgency.value, "consultations": self.consultations.as_json(),
            "target_days": self.target_days,
            "received_to_booked_hours": {"median": self.received_to_booked_median.as_json(),
                                         "p90": self.received_to_booked_p90.as_json()},
            "received_to_held_hours": {"median": self.received_to_held_median.as_json(),
                                       "p90": self.received_to_held_p90.as_json()},
            "within_target": self.within_target.as_json(),
        }


@dataclass(frozen=True)
class Outcomes:
    """What staff recorded when they completed the held consultations of the period."""

    held: Count
    recorded: Count
    admission_avoided: Mapping[AdmissionAvoided, Count]
    follow_up: Mapping[FollowUp, Count]

    def as_json(self) -> dict[str, Any]:
        return {
            "held": self.held.as_json(), "recorded": self.recorded.as_json(),
            "admission_avoided": {k.value: self.admission_avoided[k].as_json() for k in AdmissionAvoided},
            "follow_up": {k.value: self.follow_up[k].as_json() for k in FollowUp},
        }


@dataclass(frozen=True)
class BenefitsReport:
    """The whole report for one period and filter."""

    period: Period
    filters: Filters
    settings: SettingsUsed
    generated_at: datetime
    totals: Figures
    months: tuple[MonthRow, ...]
    by_municipality: tuple[BreakdownRow, ...]
    by_consultation_type: tuple[BreakdownRow, ...]
    by_department: tuple[BreakdownRow, ...]
    response_times: tuple[ResponseTimes, ...]
    outcomes: Outcomes

    def breakdown(self, which: Breakdown) -> tuple[BreakdownRow, ...]:
        return {Breakdown.MUNICIPALITY: self.by_municipality,
                Breakdown.CONSULTATION_TYPE: self.by_consultation_type,
                Breakdown.DEPARTMENT: self.by_department}[which]

    def as_json(self) -> dict[str, Any]:
        """The report as the API returns it (aggregates only; no names of people anywhere)."""
        return {
            "period": self.period.as_json(), "filters": self.filters.as_json(),
            "settings": self.settings.as_json(), "generated_at": self.generated_at.isoformat(),
            "small_cell_limit": SMALL_CELL_LIMIT,
            "totals": self.totals.as_json(),
            "months": [m.as_json() for m in self.months],
            "by_municipality": [r.as_json() for r in self.by_municipality],
            "by_consultation_type": [r.as_json() for r in self.by_consultation_type],
            "by_department": [r.as_json() for r in self.by_department],
            "response_times": [r.as_json() for r in self.response_times],
            "outcomes": self.outcomes.as_json(),
        }
