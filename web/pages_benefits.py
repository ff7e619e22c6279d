"""The benefits report page and its downloads (PDF, CSV, XLSX), for team leaders and administrators.

One GET route: the form's fields choose the period (a month, a quarter, a year or from–to) and the
filters, and ``format`` asks for a file instead of the page. Choosing changes nothing, so the form is a
GET and a report's address can be bookmarked or sent to a colleague. Each view and each download is one
call to the benefits service, which records it in the audit log (the period and filters, never a patient).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup
from multidict import MultiDict

from scheduling.benefits.access import REPORT_ROLES
from scheduling.benefits.report import Filters, Period, PeriodKind
from server.platform.appkeys import CLOCK
from server.platform.errors import ValidationFailed
from server.platform.local_time import OSLO
from web.appkeys import SCHEDULING
from web.benefits_charts import render_chart
from web.benefits_exports import to_csv, to_pdf, to_xlsx
from web.benefits_report_view import report_view
from web.benefits_view import ReportView, cell_text
from web.guards import require_actor
from web.i18n import gettext as _
from web.labels import consultation_type_label
from web.messages import N_, message_for
from web.reads import reading
from web.render import render
from web.report_query import FILTER_FIELDS, read_report_query

DEFAULT_MONTHS_BACK = 6
"""The report opens on the last six whole months (the half-year a leader reports on), this month left out."""

QUARTERS_OFFERED = 12
YEARS_OFFERED = 6

PERIOD_LABELS = {
    PeriodKind.MONTH: N_("A month"),
    PeriodKind.QUARTER: N_("A quarter"),
    PeriodKind.YEAR: N_("A year"),
    PeriodKind.CUSTOM: N_("From and to a date"),
}

# Field codes the period and filters may be refused with, and their words.
_FIELD_MESSAGES = {
    "before_from": N_("The end date is before the start date."),
    "unknown": N_("Choose one of the options."),
    "invalid_month": N_("Choose a month."),
}

DOWNLOADS = {
    "csv": ("text/csv; charset=utf-8", to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx),
    "pdf": ("application/pdf", to_pdf),
}

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass
class Choice:
    """What the form asked for: the period, the filters, the fields as typed and what was wrong."""

    period: Period | None
    filters: Filters
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _choice(query: dict[str, str], today: date) -> Choice:
    """Read the form; every value typed comes back in ``values`` so nothing is lost on an error.

    The form's friendly fields (a month, a quarter, a year, or from–to) are put as the API's question and
    read by the same reader as ``GET /api/reports/benefits``, so the page and the API never disagree."""
    default_from = _months_back(today, DEFAULT_MONTHS_BACK)
    default_to = today.replace(day=1) - timedelta(days=1)
    values = {
        "period": query.get("period", PeriodKind.CUSTOM.value),
        "month": query.get("month", f"{today.year:04d}-{today.month:02d}"),
        "quarter": query.get("quarter", f"{today.year:04d}-Q{(today.month - 1) // 3 + 1}"),
        "year": query.get("year", str(today.year)),
        "from": query.get("from", default_from.isoformat()),
        "to": query.get("to", default_to.isoformat()),
        **{name: query.get(name, "") for name in FILTER_FIELDS},
    }
    errors: dict[str, str] = {}
    asked: dict[str, str] = {name: values[name].strip() for name in FILTER_FIELDS}
    field_of_from = "from"  # which form field a problem with the API's "from" belongs to
    try:
        kind = PeriodKind(values["period"])
    except ValueError:
        errors["period"] = message_for("invalid_choice")
        kind = PeriodKind.CUSTOM
    if kind is PeriodKind.MONTH:
        field_of_from = "month"
        m = _MONTH.match(values["month"].strip())
        if m and 1 <= int(m.group(2)) <= 12:  # the months of a year
            asked |= {"period": kind.value, "from": f"{m.group(1)}-{m.group(2)}-01"}
        else:
            errors["month"] = _(_FIELD_MESSAGES["invalid_month"])
    elif kind is PeriodKind.QUARTER:
        field_of_from = "quarter"
        q = _QUARTER.match(values["quarter"].strip())
        if q:
            asked |= {"period": kind.value, "from": f"{q.group(1)}-{3 * int(q.group(2)) - 2:02d}-01"}
        else:
            errors["quarter"] = message_for("invalid_choice")
    elif kind is PeriodKind.YEAR:
        field_of_from = "year"
        year = values["year"].strip()
        if year.isascii() and year.isdigit() and len(year) == 4:  # "²".isdigit() is true, int("²") fails
            asked |= {"period": kind.value, "from": f"{int(year):04d}-01-01"}
        else:
            errors["year"] = message_for("invalid_choice")
    else:
        asked |= {"from": values["from"].strip(), "to": values["to"].strip()}
    period: Period | None = None
    filters = Filters()
    try:
        period, filters = read_report_query(MultiDict(asked), today)
    except ValidationFailed as exc:
        for name, message in _field_errors(exc).items():
            if name == "from" and field_of_from != "from":  # a month, quarter or year out of range
                errors.setdefault(field_of_from, message_for("invalid_choice"))
            else:
                errors.setdefault(name, message)
    return Choice(None if errors else period, filters, values, errors)


def _field_errors(exc: ValidationFailed) -> dict[str, str]:
    return {name: _(_FIELD_MESSAGES[code]) if code in _FIELD_MESSAGES else message_for(code)
            for name, code in exc.fields.items()}


def _quarter_options(today: date) -> list[tuple[str, str]]:
    options = []
    year, quarter = today.year, (today.month - 1) // 3 + 1
    for _i in range(QUARTERS_OFFERED):
        options.append((f"{year}-Q{quarter}", _("Quarter {quarter} of {year}").format(quarter=quarter, year=year)))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return options


async def _options(request: web.Request, session: Any) -> dict[str, list[tuple[str, str]]]:
    services = request.app[SCHEDULING]
    types = await services.resources.list_consultation_types(session)
    return {
        "municipality": [(str(i), name) for i, name in await services.setup.municipalities(session)],
        "consultation_type": [(str(t.id), consultation_type_label(t.name, t.name_en)) for t in types],
        "department": [(str(i), name) for i, name in await services.setup.departments(session)],
    }


def _file_name(kind: str, period: Period) -> str:
    name = _("benefits")  # the file's name in the reader's language: "gevinster-2026-06-01-2026-11-30.pdf"
    return f"{name}-{period.first_day.isoformat()}-{period.last_day.isoformat()}.{kind}"


def _drawn(view: ReportView) -> list[dict[str, Any]]:
    """Each chart as inline SVG beside the id of its data table (drawing them takes tens of milliseconds)."""
    no_data = _("Nothing to show for this period.")
    return [{"chart": c, "svg": Markup(render_chart(c, no_data=no_data,  # noqa: S704  # our own SVG, cleaned
                                                    described_by=f"table-{c.table.key}"))} for c in view.charts]


async def benefits_page(request: web.Request) -> web.StreamResponse:
    """The report: the form, the key figures, the charts with their tables, the method; or a download."""
    actor = require_actor(request, *REPORT_ROLES)
    wanted = request.query.get("format", "html")
    today = request.app[CLOCK].now().astimezone(OSLO).date()
    choice = _choice(dict(request.query), today)
    if wanted != "html" and wanted not in DOWNLOADS:
        choice.errors["format"] = message_for("invalid_choice")
    service = request.app[SCHEDULING].benefits
    async with reading(request) as session:
        options = await _options(request, session)
        report = None
        if not choice.errors and choice.period is not None:
            try:
                report = await service.report(session, actor, choice.period, choice.filters)
            except ValidationFailed as exc:
                choice.errors.update(_field_errors(exc))
    if report is not None and wanted in DOWNLOADS:
        content_type, write = DOWNLOADS[wanted]
        # Drawn in a thread: a PDF takes a good tenth of a second, and the event loop also carries live calls.
        # (to_thread runs in a copy of this context, so the reader's language goes with it.)
        body = await asyncio.to_thread(lambda: write(report_view(report)))
        return web.Response(body=body, headers={
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{_file_name(wanted, report.period)}"'})
    view = report_view(report) if report is not None else None
    charts = await asyncio.to_thread(_drawn, view) if view is not None else []
    query = {k: v for k, v in choice.values.items() if v}
    return render(request, "benefits_report.html", {
        "view": view, "charts": charts, "values": choice.values, "errors": choice.errors,
        "options": options, "quarters": _quarter_options(today),
        "years": [str(today.year - i) for i in range(YEARS_OFFERED)],
        "period_kinds": [(k.value, _(label)) for k, label in PERIOD_LABELS.items()],
        "downloads": {kind: "/reports/benefits?" + urlencode({**query, "format": kind}) for kind in DOWNLOADS},
        "cell_text": cell_text,
    }, status=422 if choice.errors else 200)


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/reports/benefits", benefits_page)
