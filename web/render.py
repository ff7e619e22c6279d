"""Rendering pages with the shared layout context."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from babel.dates import format_date

from server.platform.local_time import OSLO
from web import i18n, labels, scheduling_labels
from web.context import REQUEST_CONTEXT
from web.navigation import navigation_for
from web.security import CSRF_FIELD

# How each language writes a clock time and a short day: "kl. 11.30" and "tirsdag 1. des." in bokmål
# (Språkrådet), "11:30" and "Tuesday 1 Dec" in English. Month and day names come from Babel.
_CLOCK_SEPARATOR = {"nb": ".", "en": ":"}  # "HH.mm" and "HH:mm"
_SHORT_DAY = {"nb": "EEEE d. MMM", "en": "EEEE d MMM"}
# A day written out: "mandag 30. november 2026" / "Monday 30 November 2026".
_LONG_DAY = {"nb": "EEEE d. MMMM y", "en": "EEEE d MMMM y"}


def _day_text(day: date, fmt: str) -> str:
    """A date in the reader's language: "long" (or "full") spelled out with the weekday, otherwise one of
    Babel's formats ("short": 30.11.2026 / 30/11/2026, "medium": 30. nov. 2026 / 30 Nov 2026)."""
    if fmt in {"long", "full"}:
        return format_date(day, _LONG_DAY[i18n.current_language()], locale=i18n.babel_locale())
    return format_date(day, format=fmt, locale=i18n.babel_locale())


def local_date(value: date, fmt: str = "medium") -> str:
    """A calendar date (a birth date, a closed day) in the reader's language, as :func:`_day_text`."""
    return _day_text(value, fmt)


def local_datetime(value: datetime, fmt: str = "long") -> str:
    """A UTC moment in Oslo time as the reader's language says it, the one way pages write a moment:
    "mandag 30. november 2026 kl. 11.30" and "Monday 30 November 2026, 11:30" ("long"), or with a
    short date, "30.11.2026 kl. 11.30" and "30/11/2026, 11:30" ("short", for tables)."""
    day = value.astimezone(OSLO).date()
    return i18n.gettext("%(day)s, %(time)s") % {"day": _day_text(day, fmt), "time": local_time(value)}


def _occurs_twice(local: datetime) -> bool:
    """Whether this wall-clock time happens twice (the hour the clocks go back in October).

    A time read from UTC never falls in the spring gap, so a different offset under the other
    ``fold`` can only mean the time is repeated."""
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def _offset(local: datetime) -> str:
    minutes = int((local.utcoffset() or timedelta(0)).total_seconds() // 60)
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes >= 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")


def local_time(value: datetime) -> str:
    """The Oslo clock time of a UTC datetime, "11.30" (bokmål) or "11:30" (English).

    A time that occurs twice, when summer time ends, carries its offset ("02.30 (UTC+2)") so the two
    are told apart."""
    local = value.astimezone(OSLO)
    # Both patterns are two-digit hours and minutes around a separator: written out directly, since a
    # week calendar writes hundreds of times and Babel's formatter parses its pattern on every call.
    separator = _CLOCK_SEPARATOR[i18n.current_language()]
    text = f"{local.hour:02d}{separator}{local.minute:02d}"
    return f"{text} ({_offset(local)})" if _occurs_twice(local) else text


def clock_time(value: time) -> str:
    """A wall-clock time that is already local (opening hours, a closed afternoon): "13.30" / "13:30"."""
    return f"{value.hour:02d}{_CLOCK_SEPARATOR[i18n.current_language()]}{value.minute:02d}"


def local_day(value: date | datetime) -> str:
    """A short day heading: "tirsdag 1. des." / "Tuesday 1 Dec" (a datetime is read in Oslo time)."""
    day = value.astimezone(OSLO).date() if isinstance(value, datetime) else value
    return format_date(day, _SHORT_DAY[i18n.current_language()], locale=i18n.babel_locale())


def local_time_range(start: datetime, end: datetime) -> str:
    """When something happens, in Oslo time: "tirsdag 1. desember 2026 kl. 11.30–12.00" in bokmål,
    "Tuesday 1 December 2026, 11:30–12:00" in English; the end date is named when it differs."""
    first, last = start.astimezone(OSLO), end.astimezone(OSLO)
    if first.date() == last.date():
        return i18n.gettext("%(date)s, %(start)s–%(end)s") % {
            "date": _day_text(first.date(), "long"), "start": local_time(start), "end": local_time(end)}
    return i18n.gettext("%(start_date)s, %(start)s – %(end_date)s, %(end)s") % {
        "start_date": _day_text(first.date(), "long"), "start": local_time(start),
        "end_date": _day_text(last.date(), "long"), "end": local_time(end)}


def render(request: web.Request, template: str, context: dict[str, Any] | None = None,
           *, status: int = 200) -> web.Response:
    """Render a page with the user, navigation, language and CSRF token filled in."""
    page_ctx = request.get(REQUEST_CONTEXT)
    base: dict[str, Any] = {
        "lang": i18n.current_language(),
        "user": page_ctx.user if page_ctx else None,
        "actor": page_ctx.actor if page_ctx else None,
        "csrf_field": CSRF_FIELD,
        "csrf_token": page_ctx.csrf_token if page_ctx else "",
        "nav": navigation_for(page_ctx.actor if page_ctx else None, request.path),
        "path": request.path,
        "local_datetime": local_datetime,
        "local_date": local_date,
        "local_time": local_time,
        "clock_time": clock_time,
        "local_day": local_day,
        "local_time_range": local_time_range,
        "role_label": labels.role_label,
        "action_label": labels.action_label,
        "object_label": labels.object_label,
        "outbox_label": labels.outbox_label,
        "outbox_failure_label": labels.outbox_failure_label,
        "equipment_list": labels.equipment_list,
        "language_label": labels.language_label,
        "calendar_error_label": labels.calendar_error_label,
        "consultation_type_label": labels.consultation_type_label,
        "audit_problem_label": labels.audit_problem_label,
        "resource_kind_label": labels.resource_kind_label,
        "organisation_kind_label": labels.organisation_kind_label,
        "organisation_kind_options": labels.organisation_kind_options,
        "requirement_label": scheduling_labels.requirement_label,
    }
    base.update(context or {})
    response = aiohttp_jinja2.render_template(template, request, base, status=status)
    response.headers["Content-Language"] = i18n.current_language()
    return response
