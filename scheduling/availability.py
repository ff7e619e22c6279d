"""Weekly hours, dated exceptions and public holidays, expanded to free UTC intervals.

Hours are wall-clock times in the resource's own zone (Europe/Oslo by default). They are turned into
UTC one local day at a time, so an 08:00–16:00 day stays 08:00–16:00 on the clock on both DST Sundays
(it is then 8 hours long, not 7 or 9, because the changes happen at night).

Wall times that do not exist (02:30 on the last Sunday of March) are read as RFC 5545 reads them: with
the offset before the gap, i.e. one hour later on the clock (02:15–02:45 becomes 03:15–03:45, and
02:30–03:15 becomes empty rather than inverted). Times that occur twice (02:30 on the last Sunday of
October) mean the first occurrence. Opening hours that touch 02:00–03:00 are rare; these rules just make
the result well defined.

Precedence within one day, from weakest to strongest:
weekly hours → closed on a public holiday → extra hours (open, even on a holiday) → closed (wins always).
An explicit closure winning over everything is the safe reading: it can only remove slots.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from scheduling.errors import InvalidAvailability
from scheduling.intervals import UTC, Interval, IntervalSet
from server.platform.local_time import OSLO_TZ_NAME

__all__ = [
    "DEFAULT_TZ",
    "Availability",
    "DateException",
    "ExceptionKind",
    "HolidayCalendar",
    "NorwegianHolidays",
    "TimeRange",
    "WeeklyHours",
    "expand",
    "zone",
]

DEFAULT_TZ = OSLO_TZ_NAME

_MIDNIGHT = time(0, 0)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The :class:`ZoneInfo` for an IANA name; :class:`InvalidAvailability` when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidAvailability(f"unknown time zone {name!r}", code="availability.unknown_tz") from exc


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Local wall-clock range ``[start, end)`` within one day.

    ``end == time(0, 0)`` means midnight at the end of the day (24:00). Ranges across midnight are
    split by the caller into two days; that keeps each local day self-contained.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise InvalidAvailability(
                "time ranges are wall-clock times without tzinfo", code="availability.tz"
            )
        if self.end != _MIDNIGHT and not self.start < self.end:
            raise InvalidAvailability(
                f"time range must have start < end, got {self.start}–{self.end}", code="availability.range"
            )

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """Parse ``"08:00-16:00"`` (``"24:00"`` allowed as an end)."""
        try:
            left, right = (part.strip() for part in text.replace("–", "-").split("-"))
            end = _MIDNIGHT if right == "24:00" else time.fromisoformat(right)
            return cls(time.fromisoformat(left), end)
        except ValueError as exc:
            raise InvalidAvailability(f"cannot read time range {text!r}", code="availability.range") from exc


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Working or opening hours per weekday: ``days[0]`` is Monday, ``days[6]`` Sunday."""

    days: tuple[tuple[TimeRange, ...], ...] = field(default=((),) * 7)

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise InvalidAvailability("weekly hours need exactly 7 weekdays", code="availability.weekdays")

    @classmethod
    def from_mapping(cls, by_weekday: Mapping[int, Iterable[TimeRange]]) -> WeeklyHours:
        """Build from ``{0: [TimeRange, ...], ...}`` with 0 = Monday; missing days are closed."""
        if any(not 0 <= day <= 6 for day in by_weekday):
            raise InvalidAvailability(
                "weekday must be 0 (Monday) .. 6 (Sunday)", code="availability.weekdays"
            )
        return cls(tuple(tuple(by_weekday.get(day, ())) for day in range(7)))

    @classmethod
    def weekdays(cls, *ranges: TimeRange) -> WeeklyHours:
        """The same ranges Monday to Friday, closed at weekends."""
        return cls.from_mapping(dict.fromkeys(range(5), ranges))


class ExceptionKind(StrEnum):
    """What a dated exception does to a day."""

    CLOSED = "closed"  # with a range: closed in that range; without: closed all day
    EXTRA = "extra"  # open in the range in addition to the weekly hours


@dataclass(frozen=True, slots=True)
class DateException:
    """A change to the weekly hours on one local date."""

    day: date
    kind: ExceptionKind
    time_range: TimeRange | None = None

    def __post_init__(self) -> None:
        if self.kind is ExceptionKind.EXTRA and self.time_range is None:
            raise InvalidAvailability(
                "extra hours need a time range", code="availability.extra_without_range"
            )


class HolidayCalendar(Protocol):
    """Tells whether a local date is a public holiday (injectable for tests or other countries)."""

    def is_holiday(self, day: date) -> bool:
        """True when ``day`` is a public holiday."""
        ...


@lru_cache(maxsize=32)
def _norwegian_holidays(year: int) -> frozenset[date]:
    # building the holidays object costs about a millisecond; cache per year, the rules never change
    return frozenset(holidays.country_holidays("NO", years=year).keys())


class NorwegianHolidays:
    """Norwegian public holidays (helligdager) from the ``holidays`` package.

    Includes Maundy Thursday, Good Friday, Easter Sunday and Monday, 1 May, 17 May, Ascension Day,
    Whit Sunday and Monday, Christmas Day and Boxing Day. Christmas Eve and New Year's Eve are not
    public holidays: add them as dated exceptions where a service closes.
    """

    def is_holiday(self, day: date) -> bool:
        """True when ``day`` is a Norwegian public holiday."""
        return day in _norwegian_holidays(day.year)


@dataclass(frozen=True, slots=True)
class Availability:
    """When one resource (person, health room, equipment) can be booked, before bookings and busy times."""

    weekly: WeeklyHours
    exceptions: tuple[DateException, ...] = ()
    tz: str = DEFAULT_TZ
    closed_on_public_holidays: bool = True

    def __post_init__(self) -> None:
        zone(self.tz)  # fail at construction, not in the middle of a search


def _local_to_utc(day: date, wall: time, tz: ZoneInfo, *, is_end: bool) -> datetime:
    if is_end and wall == _MIDNIGHT:
        day = day + timedelta(days=1)  # an end of 00:00 is 24:00, the next day's midnight
    # fold=0: first occurrence of a repeated time, offset-before-gap for a missing one (RFC 5545 3.3.5)
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


def _ranges_to_set(day: date, ranges: Iterable[TimeRange], tz: ZoneInfo) -> IntervalSet:
    pairs = []
    for r in ranges:
        start = _local_to_utc(day, r.start, tz, is_end=False)
        end = _local_to_utc(day, r.end, tz, is_end=True)
        if start < end:  # a range starting in the spring-forward gap may come out inverted: empty
            pairs.append((start, end))
    return IntervalSet.from_pairs(pairs)


def expand(
    availability: Availability,
    window: Interval,
    *,
    holiday_calendar: HolidayCalendar | None = None,
) -> IntervalSet:
    """Free UTC intervals of ``availability`` inside ``window``.

    ``holiday_calendar`` defaults to :class:`NorwegianHolidays`; it is only consulted when
    ``availability.closed_on_public_holidays`` is true.
    """
    tz = zone(availability.tz)
    calendar: HolidayCalendar = holiday_calendar or NorwegianHolidays()
    by_day: dict[date, list[DateException]] = {}
    for exc in availability.exceptions:
        by_day.setdefault(exc.day, []).append(exc)

    # local dates touched by the window; one day of margin on each side is cheap and covers any offset
    first = window.start.astimezone(tz).date() - timedelta(days=1)
    last = window.end.astimezone(tz).date() + timedelta(days=1)
    pairs: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        pairs.extend(_day_set(availability, day, tz, calendar, by_day.get(day, ())).pairs())
        day += timedelta(days=1)
    # one build at the end merges the seams between days (a 00:00–24:00 run becomes one interval)
    return IntervalSet.from_pairs(pairs).clip(window)


def _day_set(
    availability: Availability,
    day: date,
    tz: ZoneInfo,
    calendar: HolidayCalendar,
    exceptions: Iterable[DateException],
) -> IntervalSet:
    exceptions = tuple(exceptions)
    if availability.closed_on_public_holidays and calendar.is_holiday(day):
        open_set = IntervalSet()
    else:
        open_set = _ranges_to_set(day, availability.weekly.days[day.weekday()], tz)
    extra = [e.time_range for e in exceptions if e.kind is ExceptionKind.EXTRA and e.time_range]
    if extra:
        open_set = open_set.union(_ranges_to_set(day, extra, tz))
    for exc in exceptions:
        if exc.kind is not ExceptionKind.CLOSED:
            continue
        if exc.time_range is None:
            return IntervalSet()
        open_set = open_set.difference(_ranges_to_set(day, [exc.time_range], tz))
    return open_set
