"""A small benefits report built by hand: what the page, charts and downloads are checked against.

Every kind of cell is in it: large counts, a municipality with 3 held consultations (shown "<5", and
its kilometres with it), an urgency with none, and outcomes with small counts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from scheduling.benefits.report import (
    Amount,
    BenefitsReport,
    BreakdownRow,
    Count,
    Figures,
    Filters,
    MonthRow,
    Outcomes,
    Period,
    PeriodKind,
    ResponseTimes,
    SettingsUsed,
    Share,
    Unit,
)
from scheduling.models import AdmissionAvoided, FollowUp, Urgency

SETTINGS = SettingsUsed(
    cost_per_km_nok=3.5, cost_per_km_source="Pasientreiser: reise med egen bil", escort_cost_counted=True,
    co2_kg_per_km=0.12, co2_source="Miljødirektoratet", video_share_target=0.3, home_share_target=0.3,
    target_days={Urgency.DAY: 1, Urgency.WEEK: 7, Urgency.FOUR_WEEKS: 28})


def figures(held: int, km: float, *, cancelled: int = 0, no_show: int = 0, trips: int | None = None,
            at_home: int = 0) -> Figures:
    c_held = Count.of(held)
    c_trips = Count.of(trips if trips is not None else held)
    total = Count.of(held + cancelled + no_show)
    return Figures(
        consultations=total, held=c_held, cancelled=Count.of(cancelled), no_show=Count.of(no_show),
        upcoming=Count.of(0), held_at_home=Count.of(at_home),
        video_share=Share.of(c_held, total, 0.3), home_share=Share.of(Count.of(at_home), c_held, 0.3),
        trips_avoided=c_trips, patient_trips_avoided=c_held, escort_trips_avoided=Count.of(c_trips._exact - held),
        nurse_trips_avoided=Count.of(0),
        km_avoided=Amount.of(km, Unit.KM, basis=c_trips),
        travel_hours_avoided=Amount.of(km / 60, Unit.HOURS, basis=c_trips),
        travel_cost_avoided_nok=Amount.of(km * 3.5, Unit.NOK, basis=c_trips),
        co2_avoided_kg=Amount.of(km * 0.12, Unit.KG_CO2, basis=c_trips),
        staff_hours_avoided=Amount.of(0, Unit.HOURS, basis=c_trips),
        held_without_travel_data=Count.of(0))


def _response(urgency: Urgency, n: int, median_h: float, p90_h: float, target: float) -> ResponseTimes:
    count = Count.of(n)
    return ResponseTimes(
        urgency=urgency, consultations=count, target_days=target,
        received_to_booked_median=Amount.of(median_h / 2, Unit.HOURS, basis=count),
        received_to_booked_p90=Amount.of(p90_h / 2, Unit.HOURS, basis=count),
        received_to_held_median=Amount.of(median_h, Unit.HOURS, basis=count),
        received_to_held_p90=Amount.of(p90_h, Unit.HOURS, basis=count),
        within_target=Share.of(Count.of(n), count, None))


def report() -> BenefitsReport:
    """Rødøy 20 held (1840 km), Træna 3 held (hidden), in two months; Week urgency 23 held, Day none."""
    return BenefitsReport(
        period=Period(date(2026, 10, 1), date(2026, 11, 30), PeriodKind.CUSTOM),
        filters=Filters(),
        settings=SETTINGS,
        generated_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        totals=figures(23, 2164, cancelled=6, no_show=2, trips=28, at_home=5),
        months=(MonthRow(date(2026, 10, 1), figures(11, 1012)), MonthRow(date(2026, 11, 1), figures(12, 1152))),
        by_municipality=(BreakdownRow(1, "Rødøy kommune", "", figures(20, 1840, cancelled=5)),
                         BreakdownRow(2, "Træna kommune", "", figures(3, 324, cancelled=1))),
        by_consultation_type=(BreakdownRow(1, "Geriatrisk samkonsultasjon", "Geriatric joint consultation",
                                           figures(23, 2164, cancelled=6)),),
        by_department=(BreakdownRow(None, "", "", figures(23, 2164)),),
        response_times=(_response(Urgency.DAY, 0, 0, 0, 1), _response(Urgency.WEEK, 23, 96, 156, 7)),
        outcomes=Outcomes(held=Count.of(23), recorded=Count.of(21),
                          admission_avoided={AdmissionAvoided.YES: Count.of(12), AdmissionAvoided.NO: Count.of(6),
                                             AdmissionAvoided.UNCERTAIN: Count.of(3)},
                          follow_up={FollowUp.HOME_CARE: Count.of(15), FollowUp.GP: Count.of(9),
                                     FollowUp.OUTPATIENT: Count.of(2), FollowUp.ADMISSION: Count.of(0)}),
    )
