"""Rendering pages with the shared layout context."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from babel.dates import format_date, format_datetime, format_time

from server.platform.local_time import OSLO
from web import i18n, labels
from web.context import REQUEST_CONTEXT
from web.navigation import navigation_for
from web.security import CSRF_FIELD


def local_datetime(value: datetime, fmt: str = "medium") -> str:
    """A UTC datetime as Oslo local time in the user's language."""
    return format_datetime(value.astimezone(OSLO), format=fmt, locale=i18n.babel_locale())


def local_date(value: Any, fmt: str = "medium") -> str:
    return format_date(value, format=fmt, locale=i18n.babel_locale())


# How each language writes a clock time and a short day: "kl. 11.30" and "tirsdag 1. des." in bokmål
# (Språkrådet), "11:30" and "Tuesday 1 Dec" in English. Month and day names come from Babel.
_CLOCK = {"nb": "HH.mm", "en": "HH:mm"}
_SHORT_DAY = {"nb": "EEEE d. MMM", "en": "EEEE d MMM"}


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
    text = format_time(local, _CLOCK[i18n.current_language()], locale=i18n.babel_locale())
    return f"{text} ({_offset(local)})" if _occurs_twice(local) else text


def local_day(value: date | datetime) -> str:
    """A short day heading: "tirsdag 1. des." / "Tuesday 1 Dec" (a datetime is read in Oslo time)."""
    day = value.astimezone(OSLO).date() if isinstance(value, datetime) else value
    return format_date(day, _SHORT_DAY[i18n.current_language()], locale=i18n.babel_locale())


def local_time_range(start: datetime, end: datetime) -> str:
    """When something happens, in Oslo time: "tirsdag 1. desember 2026 kl. 11.30–12.00" in bokmål,
    "Tuesday, 1 December 2026, 11:30–12:00" in English; the end date is named when it differs."""
    first, last = start.astimezone(OSLO), end.astimezone(OSLO)
    locale = i18n.babel_locale()
    if first.date() == last.date():
        return i18n.gettext("%(date)s, %(start)s–%(end)s") % {
            "date": format_date(first.date(), "full", locale=locale),
            "start": local_time(start), "end": local_time(end)}
    return i18n.gettext("%(start_date)s, %(start)s – %(end_date)s, %(end)s") % {
        "start_date": format_date(first.date(), "full", locale=locale), "start": local_time(start),
        "end_date": format_date(last.date(), "full", locale=locale), "end": local_time(end)}


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
        "local_day": local_day,
        "local_time_range": local_time_range,
        "role_label": labels.role_label,
        "action_label": labels.action_label,
        "object_label": labels.object_label,
        "outbox_label": labels.outbox_label,
    }
    base.update(context or {})
    response = aiohttp_jinja2.render_template(template, request, base, status=status)
    response.headers["Content-Language"] = i18n.current_language()
    return response
