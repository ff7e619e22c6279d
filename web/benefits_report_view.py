"""The benefits report's figures put into words and tables in the reader's language.

The figures come from ``scheduling.benefits`` with the small-cell rule already applied (a ``Count``
under five, and every amount or share derived from it, is suppressed); here each becomes a
:class:`~web.benefits_view.Cell` that stays suppressed, so no output can print it.
"""

from __future__ import annotations

from babel.dates import format_date

from scheduling.benefits.report import (
    Amount,
    BenefitsReport,
    BreakdownRow,
    Count,
    Figures,
    Period,
    PeriodKind,
    SettingsUsed,
    Share,
)
from scheduling.models import AdmissionAvoided, FollowUp
from web.benefits_view import (
    EMPTY,
    HIDDEN,
    PROTECTED,
    Cell,
    Chart,
    ChartKind,
    Column,
    KeyFigure,
    ReportView,
    Row,
    Table,
    cell_text,
    number_text,
)
from web.i18n import babel_locale, current_language, ngettext
from web.i18n import gettext as _
from web.messages import N_
from web.scheduling_labels import URGENCY_LABELS

ADMISSION_LABELS = {
    AdmissionAvoided.YES: N_("Admission avoided: yes"),
    AdmissionAvoided.NO: N_("Admission avoided: no"),
    AdmissionAvoided.UNCERTAIN: N_("Admission avoided: uncertain"),
}
FOLLOW_UP_LABELS = {
    FollowUp.HOME_CARE: N_("Follow-up by home care"),
    FollowUp.GP: N_("Follow-up by the GP"),
    FollowUp.OUTPATIENT: N_("Follow-up at the outpatient clinic"),
    FollowUp.ADMISSION: N_("Admitted to hospital"),
}
HOURS_PER_DAY = 24.0


def _hidden(below_limit: bool) -> Cell:
    return HIDDEN if below_limit else PROTECTED


def count_cell(count: Count) -> Cell:
    value = count.value
    return _hidden(count.below_limit) if value is None else Cell(float(value))


def amount_cell(amount: Amount, *, scale: float = 1.0) -> Cell:
    if amount.suppressed:
        return _hidden(amount.below_limit)
    value = amount.value
    return EMPTY if value is None else Cell(value * scale)


def share_cell(share: Share) -> Cell:
    """A share in per cent (0–100)."""
    if share.suppressed:
        return _hidden(share.below_limit)
    value = share.value
    return EMPTY if value is None else Cell(value * 100)


def period_text(period: Period) -> str:
    """The period in words: "november 2026", "4. kvartal 2026", "2026" or "1. juni 2026 – 30. nov. 2026"."""
    first, last = period.first_day, period.last_day
    if period.kind is PeriodKind.MONTH:
        return format_date(first, "LLLL y", locale=babel_locale())
    if period.kind is PeriodKind.QUARTER:
        return _("Quarter {quarter} of {year}").format(quarter=(first.month - 1) // 3 + 1, year=first.year)
    if period.kind is PeriodKind.YEAR:
        return str(first.year)
    return _("{start} to {end}").format(start=format_date(first, "long", locale=babel_locale()),
                                         end=format_date(last, "long", locale=babel_locale()))


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{number_text(value * 100)} %"


# The columns every breakdown (month, municipality, type, department) shows, in this order.
def _figure_columns() -> tuple[Column, ...]:
    return (Column(_("Consultations held")), Column(_("Cancelled")), Column(_("No-shows")),
            Column(_("Share by video (%)")), Column(_("Trips avoided")), Column(_("Kilometres avoided")),
            Column(_("Travel hours avoided"), 1), Column(_("Travel costs avoided (NOK)")),
            Column(_("CO2 avoided (kg)")), Column(_("Staff hours not spent travelling"), 1))


HELD, CANCELLED, NO_SHOW, VIDEO_SHARE, TRIPS, KM = 0, 1, 2, 3, 4, 5


def _figure_cells(f: Figures) -> tuple[Cell, ...]:
    return (count_cell(f.held), count_cell(f.cancelled), count_cell(f.no_show), share_cell(f.video_share),
            count_cell(f.trips_avoided), amount_cell(f.km_avoided), amount_cell(f.travel_hours_avoided),
            amount_cell(f.travel_cost_avoided_nok), amount_cell(f.co2_avoided_kg),
            amount_cell(f.staff_hours_avoided))


def _breakdown_table(key: str, title: str, heading: str, rows: tuple[BreakdownRow, ...]) -> Table:
    lang = current_language()
    return Table(key, title, heading, _figure_columns(),
                 tuple(Row(r.label(lang) or _("Not known"), _figure_cells(r.figures)) for r in rows))


def _target_note(share: Share) -> str:
    """ "Target: 80 %. Reached." — whether the share met the trust's target, when both are known."""
    target = _("Target: {target}").format(target=_percent(share.target))
    if share.meets_target is None:
        return target
    return f"{target}. " + (_("Reached.") if share.meets_target else _("Not reached yet."))


def _key_figures(report: BenefitsReport) -> tuple[KeyFigure, ...]:
    t = report.totals
    trips_note = _("The patient's {patient}, escorts' {escort} and municipal nurses' {nurse}.").format(
        patient=count_text(t.patient_trips_avoided), escort=count_text(t.escort_trips_avoided),
        nurse=count_text(t.nurse_trips_avoided))
    return (
        KeyFigure(_("Consultations held"), count_cell(t.held)),
        KeyFigure(_("Cancelled"), count_cell(t.cancelled)),
        KeyFigure(_("No-shows"), count_cell(t.no_show)),
        KeyFigure(_("Share held by video"), share_cell(t.video_share), "%", note=_target_note(t.video_share)),
        KeyFigure(_("Share held with the patient at home"), share_cell(t.home_share), "%",
                  note=_target_note(t.home_share)),
        KeyFigure(_("Trips avoided"), count_cell(t.trips_avoided), note=trips_note),
        KeyFigure(_("Kilometres avoided"), amount_cell(t.km_avoided), "km"),
        KeyFigure(_("Travel hours avoided"), amount_cell(t.travel_hours_avoided), _("hours"), 1),
        KeyFigure(_("Travel costs avoided"), amount_cell(t.travel_cost_avoided_nok), "kr"),
        KeyFigure(_("CO2 avoided"), amount_cell(t.co2_avoided_kg), "kg"),
        KeyFigure(_("Staff hours not spent travelling"), amount_cell(t.staff_hours_avoided), _("hours"), 1),
        *_response_figures(report),
        KeyFigure(_("Admission avoided"), count_cell(report.outcomes.admission_avoided[AdmissionAvoided.YES]),
                  note=_("Of {recorded} consultations with an outcome recorded.").format(
                      recorded=count_text(report.outcomes.recorded))),
    )


def _days(days: float) -> str:
    """ "1 døgn"-style targets read right: "1 day", "7 days", "1,5 days"."""
    whole = days == int(days)
    return ngettext("{n} day", "{n} days", int(days) if whole else 2).format(n=number_text(days, 0 if whole else 1))


def _with_unit(cell: Cell, decimals: int, unit: str) -> str:
    """A figure with its unit; a hidden one is "<5" alone, so that it does not read as "under 5 days"."""
    text = cell_text(cell, decimals)
    return text if cell.suppressed or cell.value is None else f"{text} {unit}"


def _response_figures(report: BenefitsReport) -> tuple[KeyFigure, ...]:
    """Per urgency: the median days from referral to consultation, with the 90 % and the share in time."""
    days = 1 / HOURS_PER_DAY
    figures = []
    for r in report.response_times:
        p90 = amount_cell(r.received_to_held_p90, scale=days)
        share = share_cell(r.within_target)
        figures.append(KeyFigure(
            _("Response time, {urgency}").format(urgency=_(URGENCY_LABELS[r.urgency]).lower()),
            amount_cell(r.received_to_held_median, scale=days), _("days"), 1,
            note=_("Median from referral to consultation. 90 %: {p90}. Held within the target of {target}: "
                   "{share}.").format(p90=_with_unit(p90, 1, _("days")), target=_days(r.target_days),
                                      share=_with_unit(share, 0, "%"))))
    return tuple(figures)


def count_text(count: Count) -> str:
    value = count.value
    return count.display() if value is None else number_text(value)


def _response_table(report: BenefitsReport) -> Table:
    columns = (Column(_("Consultations")), Column(_("Target (days)"), 1),
               Column(_("Received to booked, median (days)"), 1), Column(_("Received to booked, 90 % (days)"), 1),
               Column(_("Received to held, median (days)"), 1), Column(_("Received to held, 90 % (days)"), 1),
               Column(_("Held within target (%)")))
    days = 1 / HOURS_PER_DAY
    rows = tuple(Row(_(URGENCY_LABELS[r.urgency]), (
        count_cell(r.consultations), Cell(r.target_days),
        amount_cell(r.received_to_booked_median, scale=days), amount_cell(r.received_to_booked_p90, scale=days),
        amount_cell(r.received_to_held_median, scale=days), amount_cell(r.received_to_held_p90, scale=days),
        share_cell(r.within_target))) for r in report.response_times)
    return Table("response-times", _("Response times by urgency"), _("Urgency"), columns, rows)


def _outcome_table(report: BenefitsReport) -> Table:
    o = report.outcomes
    rows = [Row(_("Consultations held"), (count_cell(o.held),)),
            Row(_("Outcome recorded"), (count_cell(o.recorded),))]
    rows += [Row(_(ADMISSION_LABELS[k]), (count_cell(o.admission_avoided[k]),)) for k in AdmissionAvoided]
    rows += [Row(_(FOLLOW_UP_LABELS[k]), (count_cell(o.follow_up[k]),)) for k in FollowUp]
    return Table("outcomes", _("Outcomes recorded by staff"), _("Outcome"), (Column(_("Consultations")),),
                 tuple(rows))


def _method(settings: SettingsUsed) -> tuple[tuple[str, ...], tuple[str, ...]]:
    method = (
        _("Only consultations that were held count as savings. Each held consultation where the patient took "
          "part from a health room or from home spared the patient a round trip to the hospital the referral "
          "names; an escort's trip is counted too where the referral says the patient needed one, and the "
          "municipal nurse's where she would have gone along."),
        _("Kilometres are the round trip from the municipality's centre to that hospital. Travel hours are the "
          "door-to-door travel time both ways, ferries included, from each municipality's travel data, for "
          "every person spared the trip. Staff hours are the municipal nurse's part of those hours."),
        _("Travel costs are kilometres times {rate} kr per km; {escort}. CO2 is {co2} kg per kilometre.").format(
            rate=number_text(settings.cost_per_km_nok, 2),
            escort=_("an escort's trip is counted at the same rate") if settings.escort_cost_counted
            else _("escorts' trips are not counted in the costs"),
            co2=number_text(settings.co2_kg_per_km, 3)),
        _("Response time runs from when the referral was received to when the consultation was booked and to "
          "when it was held. The median is the middle value; 90 % were faster than the second figure."),
        _("The share held by video is the consultations held out of all that were held, cancelled or missed. "
          "The share at home is the consultations held with the patient at home out of all held, compared "
          "with the goal of 30 % of treatment and follow-up at home."),
    )
    sources = (_("Rate per kilometre: {source}").format(source=settings.cost_per_km_source),
               _("CO2 per kilometre: {source}").format(source=settings.co2_source))
    return method, sources


def report_view(report: BenefitsReport) -> ReportView:
    """The whole report in the reader's language, ready for the page and every download."""
    months = Table("months", _("Month by month"), _("Month"), _figure_columns(), tuple(
        Row(format_date(m.month, "LLL y", locale=babel_locale()), _figure_cells(m.figures)) for m in report.months))
    municipalities = _breakdown_table("municipalities", _("By municipality"), _("Municipality"),
                                      report.by_municipality)
    types = _breakdown_table("consultation-types", _("By consultation type"), _("Consultation type"),
                             report.by_consultation_type)
    departments = _breakdown_table("departments", _("By department"), _("Department"), report.by_department)
    response = _response_table(report)
    outcomes = _outcome_table(report)
    charts = (
        Chart("trips", _("Trips avoided per month"), months, (TRIPS,), y_title=_("Trips")),
        Chart("kilometres", _("Kilometres avoided per month"), months, (KM,), y_title=_("Kilometres")),
        Chart("response-times", _("Response times by urgency (days)"), response, (4, 5), y_title=_("Days")),
        Chart("municipalities", _("Consultations by municipality"), municipalities, (HELD, CANCELLED, NO_SHOW),
              ChartKind.HORIZONTAL),
        Chart("consultation-types", _("Consultations by type"), types, (HELD, CANCELLED, NO_SHOW),
              ChartKind.HORIZONTAL),
    )
    f = report.filters
    filters = tuple((label, value) for label, value in (
        (_("Municipality"), f.municipality_name), (_("Consultation type"), f.consultation_type_name),
        (_("Department"), f.department_name)) if value)
    method, sources = _method(report.settings)
    return ReportView(
        title=_("Benefits of joint consultations"),
        period_text=period_text(report.period),
        filters=filters,
        key_figures=_key_figures(report),
        tables=(months, response, municipalities, types, departments, outcomes),
        charts=charts,
        method=method,
        sources=sources,
        small_cell_note=_("To protect patients' privacy, numbers under 5 are shown as \"<5\", and so are the "
                          "figures worked out from them. A number that would let such a cell be worked out (a total "
                          "minus the others) is shown as \":\". Hidden cells are left out of the charts."),
    )
