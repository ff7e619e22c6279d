"""Reading which benefits report is asked for from a query string: the period and the filters.

Shared by the JSON API and the report's pages and downloads, so that every output answers the same
question the same way. Accepted:

- ``from`` and ``to`` (YYYY-MM-DD, both included, at most five years apart), or
- ``period`` = ``month`` | ``quarter`` | ``year``: the one containing ``from`` (today in Norway when
  ``from`` is absent); ``to`` is then not allowed;
- optionally ``municipality``, ``consultation_type`` and ``department`` (ids).

Every problem is reported at once as field codes (a 422 problem in the API, form messages on pages).
"""

from __future__ import annotations

import re
from datetime import date

from multidict import MultiMapping

from scheduling.benefits import periods
from scheduling.benefits.report import Filters, Period, PeriodKind
from server.platform.errors import ValidationFailed
from web.forms import parse_id

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FIRST_YEAR, LAST_YEAR = 2000, 2999
FILTER_FIELDS = ("municipality", "consultation_type", "department")


def _date(raw: str | None, name: str, problems: dict[str, str]) -> date | None:
    if raw is None or raw == "":
        return None
    try:
        value = date.fromisoformat(raw) if _DATE.match(raw) else None
    except ValueError:
        value = None
    if value is None or not FIRST_YEAR <= value.year <= LAST_YEAR:
        problems[name] = "invalid_date"
        return None
    return value


def read_report_query(query: MultiMapping[str], today: date) -> tuple[Period, Filters]:
    """The period and filters a query string asks for; raises ``ValidationFailed`` naming each bad field."""
    problems: dict[str, str] = {}
    first = _date(query.get("from"), "from", problems)
    last = _date(query.get("to"), "to", problems)
    kind_raw = query.get("period", "")
    ids: dict[str, int | None] = {}
    for name in FILTER_FIELDS:
        raw = query.get(name, "")
        ids[name] = parse_id(raw) if raw else None
        if raw and ids[name] is None:
            problems[name] = "invalid_choice"
    period: Period | None = None
    if kind_raw:
        try:
            kind = PeriodKind(kind_raw)
        except ValueError:
            kind = PeriodKind.CUSTOM
        if kind is PeriodKind.CUSTOM:
            problems["period"] = "invalid_choice"
        elif query.get("to"):
            problems["to"] = "period_or_dates"
        elif "from" not in problems:
            period = periods.containing(kind, first or today)
    else:
        if query.get("from") is None or query.get("from") == "":
            problems["from"] = "required"
        if query.get("to") is None or query.get("to") == "":
            problems["to"] = "required"
        if first is not None and last is not None:
            try:
                period = periods.custom(first, last)
            except ValidationFailed as error:
                problems.update(error.fields)
    if problems or period is None:
        raise ValidationFailed("the report's period or filters could not be read", problems)
    return period, Filters(municipality_id=ids["municipality"], consultation_type_id=ids["consultation_type"],
                           department_id=ids["department"])
