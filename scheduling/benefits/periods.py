"""Periods of the benefits report in Norwegian local time: what "a month" or "a quarter" means, and the
UTC instants that bound them (a consultation counts in the period by its start, as a Europe/Oslo date)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from scheduling.benefits.report import Period, PeriodKind
from server.platform.errors import ValidationFailed
from server.platform.local_time import OSLO

MAX_PERIOD_DAYS = 5 * 366
"""The longest period a report covers (five years): beyond it a report answers no question a leader asks
and costs the server a full scan."""


def local_midnight_utc(day: date) -> datetime:
    """The UTC instant at which ``day`` begins in Norway (DST-correct)."""
    return datetime.combine(day, time(0), tzinfo=OSLO).astimezone(UTC)


def bounds(period: Period) -> tuple[datetime, datetime]:
    """[start, end) in UTC: from the first day's local midnight to the local midnight after the last day."""
    return local_midnight_utc(period.first_day), local_midnight_utc(period.last_day + timedelta(days=1))


def month_starts(period: Period) -> list[date]:
    """The first day of every calendar month the period touches, in order."""
    months = []
    current = period.first_day.replace(day=1)
    while current <= period.last_day:
        months.append(current)
        current = _next_month(current)
    return months


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def custom(first_day: date, last_day: date) -> Period:
    """A period the user chose; refused (field codes) when it ends before it starts or is too long."""
    if last_day < first_day:
        raise ValidationFailed("the period ends before it starts", {"to": "dates_reversed"})
    if (last_day - first_day).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationFailed("the period is longer than five years", {"to": "period_too_long"})
    return Period(first_day, last_day, PeriodKind.CUSTOM)


def containing(kind: PeriodKind, day: date) -> Period:
    """The month, quarter or year that contains ``day``."""
    if kind is PeriodKind.MONTH:
        first = day.replace(day=1)
        return Period(first, _next_month(first) - timedelta(days=1), kind)
    if kind is PeriodKind.QUARTER:
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        last = _next_month(_next_month(_next_month(first))) - timedelta(days=1)
        return Period(first, last, kind)
    if kind is PeriodKind.YEAR:
        return Period(date(day.year, 1, 1), date(day.year, 12, 31), kind)
    raise ValueError("a custom period has no containing period")
