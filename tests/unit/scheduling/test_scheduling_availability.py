"""Weekly hours to UTC: DST both ways, Norwegian public holidays, dated exceptions and their precedence."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.availability import (
    Availability,
    DateException,
    ExceptionKind,
    NorwegianHolidays,
    TimeRange,
    WeeklyHours,
    expand,
)
from scheduling.errors import InvalidAvailability
from scheduling.intervals import Interval

OSLO = ZoneInfo("Europe/Oslo")
DAY_8_16 = TimeRange(time(8), time(16))
EVERY_DAY = WeeklyHours.from_mapping(dict.fromkeys(range(7), (DAY_8_16,)))


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def local_day(d: date) -> Interval:
    return Interval(
        datetime.combine(d, time(0), tzinfo=OSLO),
        datetime.combine(d + timedelta(days=1), time(0), tzinfo=OSLO),
    )


def hours_on(availability: Availability, d: date) -> list[tuple[str, str]]:
    """The free intervals of one local day, as local wall-clock HH:MM pairs."""
    return [
        (i.start.astimezone(OSLO).strftime("%H:%M"), i.end.astimezone(OSLO).strftime("%H:%M"))
        for i in expand(availability, local_day(d))
    ]


@pytest.mark.parametrize(
    ("before", "sunday", "after"),
    [
        (date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)),  # spring forward, last Sunday of March
        (date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)),  # fall back, last Sunday of October
    ],
)
def test_dst_sunday_keeps_wall_clock_hours(before: date, sunday: date, after: date) -> None:
    av = Availability(EVERY_DAY)
    for d in (before, sunday, after):
        assert hours_on(av, d) == [("08:00", "16:00")]
        (interval,) = expand(av, local_day(d))
        assert interval.duration == timedelta(hours=8)  # none shifted, lost or doubled


def test_dst_utc_offsets_change_on_the_right_day() -> None:
    av = Availability(EVERY_DAY)
    window = Interval(utc(2026, 3, 28), utc(2026, 3, 31))
    starts = [i.start for i in expand(av, window)]
    assert starts == [utc(2026, 3, 28, 7), utc(2026, 3, 29, 6), utc(2026, 3, 30, 6)]
    window = Interval(utc(2026, 10, 24), utc(2026, 10, 27))
    starts = [i.start for i in expand(av, window)]
    assert starts == [utc(2026, 10, 24, 6), utc(2026, 10, 25, 7), utc(2026, 10, 26, 7)]


def test_hours_across_the_night_change_have_the_real_length() -> None:
    night = WeeklyHours.from_mapping({6: [TimeRange(time(1), time(4))]})
    av = Availability(night, closed_on_public_holidays=False)
    (spring,) = expand(av, local_day(date(2026, 3, 29)))
    (autumn,) = expand(av, local_day(date(2026, 10, 25)))
    assert spring.duration == timedelta(hours=2)  # 02:00–03:00 does not exist
    assert autumn.duration == timedelta(hours=4)  # 02:00–03:00 happens twice


def test_missing_wall_times_are_read_as_rfc_5545_reads_them() -> None:
    # a time in the spring-forward gap uses the offset before the gap: one hour later on the clock
    inside = WeeklyHours.from_mapping({6: [TimeRange(time(2, 15), time(2, 45))]})
    assert hours_on(Availability(inside), date(2026, 3, 29)) == [("03:15", "03:45")]
    # so a range from inside the gap to just after it has no instants, instead of being inverted
    straddling = WeeklyHours.from_mapping({6: [TimeRange(time(2, 30), time(3, 15))]})
    assert hours_on(Availability(straddling), date(2026, 3, 29)) == []


@pytest.mark.parametrize(
    "holiday",
    [
        date(2026, 4, 2),  # Maundy Thursday
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),  # Labour Day
        date(2026, 5, 14),  # Ascension Day
        date(2027, 5, 17),  # Constitution Day (a Monday in 2027)
        date(2026, 5, 25),  # Whit Monday
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2027, 1, 1),
    ],
)
def test_norwegian_public_holidays_are_closed_by_default(holiday: date) -> None:
    assert NorwegianHolidays().is_holiday(holiday)
    assert hours_on(Availability(EVERY_DAY), holiday) == []
    assert hours_on(Availability(EVERY_DAY, closed_on_public_holidays=False), holiday) == [("08:00", "16:00")]


def test_ordinary_days_and_christmas_eve_are_open() -> None:
    assert not NorwegianHolidays().is_holiday(date(2026, 12, 24))
    assert hours_on(Availability(EVERY_DAY), date(2026, 12, 24)) == [("08:00", "16:00")]
    assert hours_on(Availability(EVERY_DAY), date(2026, 4, 7)) == [("08:00", "16:00")]


def test_weekends_closed_for_weekday_hours() -> None:
    av = Availability(WeeklyHours.weekdays(DAY_8_16))
    assert hours_on(av, date(2026, 3, 7)) == []
    assert hours_on(av, date(2026, 3, 9)) == [("08:00", "16:00")]


def test_exceptions_and_their_precedence() -> None:
    monday, tuesday, wednesday = date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)
    good_friday = date(2026, 4, 3)
    av = Availability(
        WeeklyHours.weekdays(TimeRange(time(8), time(12)), TimeRange(time(13), time(16))),
        exceptions=(
            DateException(monday, ExceptionKind.CLOSED),
            DateException(tuesday, ExceptionKind.CLOSED, TimeRange(time(9), time(10))),
            DateException(tuesday, ExceptionKind.EXTRA, TimeRange(time(12), time(13))),
            DateException(wednesday, ExceptionKind.EXTRA, TimeRange(time(16), time(18))),
            DateException(wednesday, ExceptionKind.CLOSED, TimeRange(time(17), time(18))),
            DateException(good_friday, ExceptionKind.EXTRA, TimeRange(time(10), time(12))),
        ),
    )
    assert hours_on(av, monday) == []
    # lunch opened by extra hours merges with both halves; the closure cuts 09–10
    assert hours_on(av, tuesday) == [("08:00", "09:00"), ("10:00", "16:00")]
    # closed wins over extra
    assert hours_on(av, wednesday) == [("08:00", "12:00"), ("13:00", "17:00")]
    # extra hours open a holiday, but only those hours
    assert hours_on(av, good_friday) == [("10:00", "12:00")]


def test_window_clips_the_result() -> None:
    av = Availability(WeeklyHours.weekdays(DAY_8_16))
    window = Interval(utc(2026, 3, 9, 10), utc(2026, 3, 10, 8))
    assert list(expand(av, window)) == [
        Interval(utc(2026, 3, 9, 10), utc(2026, 3, 9, 15)),
        Interval(utc(2026, 3, 10, 7), utc(2026, 3, 10, 8)),
    ]


def test_injected_holiday_calendar_and_other_zone() -> None:
    class EveryMonday:
        def is_holiday(self, day: date) -> bool:
            return day.weekday() == 0

    av = Availability(WeeklyHours.weekdays(DAY_8_16), tz="America/New_York")
    window = Interval(utc(2026, 3, 9), utc(2026, 3, 11))  # New York went to summer time on 8 March
    assert list(expand(av, window, holiday_calendar=EveryMonday())) == [
        Interval(utc(2026, 3, 10, 12), utc(2026, 3, 10, 20))
    ]


def test_full_days_join_across_midnight() -> None:
    always = WeeklyHours.from_mapping(dict.fromkeys(range(7), (TimeRange.parse("00:00-24:00"),)))
    window = Interval(utc(2026, 3, 27), utc(2026, 3, 31))
    assert list(expand(Availability(always, closed_on_public_holidays=False), window)) == [window]


def test_invalid_input_is_refused_with_codes() -> None:
    with pytest.raises(InvalidAvailability) as info:
        Availability(EVERY_DAY, tz="Mars/Olympus")
    assert info.value.code == "availability.unknown_tz"
    with pytest.raises(InvalidAvailability):
        TimeRange(time(16), time(8))
    with pytest.raises(InvalidAvailability):
        TimeRange.parse("8 to 4")
    with pytest.raises(InvalidAvailability):
        DateException(date(2026, 1, 1), ExceptionKind.EXTRA)
    with pytest.raises(InvalidAvailability):
        WeeklyHours(((),) * 6)
    with pytest.raises(InvalidAvailability):
        WeeklyHours.from_mapping({7: [DAY_8_16]})
