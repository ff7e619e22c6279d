"""Dates and times from outside (query strings, forms, JSON), read once and bounded where they are read.

``date.fromisoformat`` happily returns ``9999-12-31`` and ``0001-01-01``; one day or one time zone
further the arithmetic raises ``OverflowError`` deep inside a service. Every date that reaches the
scheduling code therefore comes through here, and lies between ``EARLIEST`` and ``LATEST``: far wider
than any consultation, referral or report needs, and far from the edges of ``datetime``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from aiohttp import web

from server.platform.date_bounds import EARLIEST, LATEST, in_range
from server.platform.errors import ValidationFailed

# Only the extended form: fromisoformat also takes "20261124" and week dates ("2026-W48-1"), which no
# form of ours sends and which would make the message "write a date as YYYY-MM-DD" a lie.
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
# A date, "T" or a space, a time, an optional offset or Z; at most 40 characters in all.
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ][0-9:.,]{5,15}(?:Z|[+-]\d{2}(?::?\d{2}){0,2}(?:\.\d{1,6})?)?",
                       re.ASCII)


_T = TypeVar("_T")


class DateRefused(ValueError):
    """Text that is not a date in range; ``code`` is the message code for the field."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _read(raw: str, pattern: re.Pattern[str], code: str, convert: Callable[[str], _T]) -> _T:
    """``raw`` stripped, matched whole by ``pattern`` and converted; ``DateRefused(code)`` otherwise."""
    text = raw.strip()
    if not pattern.fullmatch(text):
        raise DateRefused(code)
    try:
        return convert(text)
    except ValueError:
        raise DateRefused(code) from None


def parse_day(raw: str) -> date:
    """A ``YYYY-MM-DD`` date between EARLIEST and LATEST; ``DateRefused`` otherwise."""
    return within_range(_read(raw, _DATE, "invalid_date", date.fromisoformat))


def parse_aware(raw: str) -> datetime:
    """An ISO date and time with its UTC offset, on a day between EARLIEST and LATEST."""
    value = _read(raw, _DATETIME, "invalid_datetime", datetime.fromisoformat)
    if value.tzinfo is None:
        raise DateRefused("invalid_datetime")
    within_range(value.date())
    return value


def parse_local(raw: str) -> datetime:
    """An ISO date and time without offset (a form's datetime-local), on a day in range."""
    value = _read(raw, _DATETIME, "invalid_datetime", datetime.fromisoformat)
    within_range(value.date())
    return value


def within_range(value: date) -> date:
    """``value`` itself, or ``DateRefused("date_out_of_range")`` outside EARLIEST..LATEST."""
    if not in_range(value):
        raise DateRefused("date_out_of_range")
    return value


def query_day(request: web.Request, name: str, default: date) -> date:
    """The date in query parameter ``name`` (``default`` when absent or empty); a 422 otherwise."""
    raw = request.query.get(name)
    if not raw:
        return default
    try:
        return parse_day(raw)
    except DateRefused as exc:
        raise ValidationFailed(_TEXT[exc.code], {name: exc.code}) from None


def field_day(raw: str, name: str) -> date:
    """The date in form or JSON field ``name``; a 422 naming the field otherwise."""
    try:
        return parse_day(raw)
    except DateRefused as exc:
        raise ValidationFailed(_TEXT[exc.code], {name: exc.code}) from None


_TEXT = {
    "invalid_date": "write the date as YYYY-MM-DD",
    "invalid_datetime": "write the date and time as YYYY-MM-DDTHH:MM with its UTC offset",
    "date_out_of_range": f"the date must lie between {EARLIEST.isoformat()} and {LATEST.isoformat()}",
}
