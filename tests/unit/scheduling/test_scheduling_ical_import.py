"""Busy times from .ics: recurrence with EXDATE and a RECURRENCE-ID override, transparent and cancelled
events, all-day events, any TZID, and clear errors for bad or oversized input."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.errors import InvalidCalendar
from scheduling.ical_import import parse_busy
from scheduling.intervals import Interval

OSLO = ZoneInfo("Europe/Oslo")

VTIMEZONE_OSLO = """BEGIN:VTIMEZONE
TZID:Europe/Oslo
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""

# An Outlook-style zone name that is not an IANA name; only its VTIMEZONE says what it means.
VTIMEZONE_OUTLOOK = VTIMEZONE_OSLO.replace("TZID:Europe/Oslo", "TZID:Vest-Europa (normaltid)")


def ics(*events: str, timezones: str = VTIMEZONE_OSLO) -> bytes:
    body = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Test//EN\n" + timezones + "".join(events) + "END:VCALENDAR\n"
    )
    return body.replace("\n", "\r\n").encode()


def vevent(uid: str, *lines: str) -> str:
    return "BEGIN:VEVENT\nUID:" + uid + "\nDTSTAMP:20260101T000000Z\n" + "\n".join(lines) + "\nEND:VEVENT\n"


WEEKLY = vevent(
    "weekly@test",
    "SUMMARY:Poliklinikk",
    "DTSTART;TZID=Europe/Oslo:20260302T090000",
    "DTEND;TZID=Europe/Oslo:20260302T100000",
    "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6",
    "EXDATE;TZID=Europe/Oslo:20260309T090000",
)
MOVED = vevent(
    "weekly@test",
    "SUMMARY:Poliklinikk (flyttet)",
    "RECURRENCE-ID;TZID=Europe/Oslo:20260316T090000",
    "DTSTART;TZID=Europe/Oslo:20260316T140000",
    "DTEND;TZID=Europe/Oslo:20260316T150000",
)
TRANSPARENT = vevent(
    "free@test", "SUMMARY:Lunsj", "DTSTART:20260303T110000Z", "DTEND:20260303T113000Z", "TRANSP:TRANSPARENT"
)
CANCELLED = vevent(
    "cancelled@test", "SUMMARY:Møte", "DTSTART:20260304T110000Z", "DTEND:20260304T113000Z", "STATUS:CANCELLED"
)
OUTLOOK_FREE = vevent(
    "ol@test", "DTSTART:20260305T110000Z", "DTEND:20260305T113000Z", "X-MICROSOFT-CDO-BUSYSTATUS:FREE"
)

MARCH = Interval(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))


def oslo(d: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm), tzinfo=OSLO)


def as_local(result_busy: object) -> list[tuple[str, str]]:
    return [
        (i.start.astimezone(OSLO).strftime("%m-%d %H:%M"), i.end.astimezone(OSLO).strftime("%m-%d %H:%M"))
        for i in result_busy  # type: ignore[attr-defined]
    ]


def test_recurrence_exdate_override_and_free_events() -> None:
    result = parse_busy(ics(WEEKLY, MOVED, TRANSPARENT, CANCELLED, OUTLOOK_FREE), MARCH)
    assert as_local(result.busy) == [
        ("03-02 09:00", "03-02 10:00"),
        # 03-09 excluded by EXDATE; 03-16 moved to the afternoon by its RECURRENCE-ID override
        ("03-16 14:00", "03-16 15:00"),
        ("03-23 09:00", "03-23 10:00"),
        # after the spring change the series stays at 09:00 on the clock
        ("03-30 09:00", "03-30 10:00"),
        ("04-06 09:00", "04-06 10:00"),
    ]
    assert result.busy.covers(Interval(oslo(date(2026, 3, 30), 9), oslo(date(2026, 3, 30), 10)))
    assert next(iter(result.busy)).start == datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert (result.occurrences, result.ignored_free, result.ignored_cancelled) == (5, 2, 1)


def test_all_day_floating_duration_and_foreign_zones() -> None:
    data = ics(
        vevent("allday@test", "DTSTART;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20260312"),
        vevent("floating@test", "DTSTART:20260313T080000", "DURATION:PT45M"),
        vevent(
            "outlook@test",
            "DTSTART;TZID=Vest-Europa (normaltid):20260316T120000",
            "DTEND;TZID=Vest-Europa (normaltid):20260316T130000",
        ),
        vevent(
            "ny@test",
            "DTSTART;TZID=America/New_York:20260317T040000",
            "DTEND;TZID=America/New_York:20260317T050000",
        ),
        timezones=VTIMEZONE_OSLO + VTIMEZONE_OUTLOOK,
    )
    result = parse_busy(data, MARCH)
    assert as_local(result.busy) == [
        ("03-10 00:00", "03-12 00:00"),  # two local days, midnight to midnight in Oslo
        ("03-13 08:00", "03-13 08:45"),  # floating time read as Oslo time
        ("03-16 12:00", "03-16 13:00"),
        ("03-17 09:00", "03-17 10:00"),  # 04:00 in New York (already on summer time) is 09:00 in Oslo
    ]


def test_events_are_clipped_to_the_window_and_zero_length_ignored() -> None:
    data = ics(
        vevent("long@test", "DTSTART:20260227T120000Z", "DTEND:20260302T120000Z"),
        vevent("point@test", "DTSTART:20260303T120000Z"),
        vevent("late@test", "DTSTART:20260601T120000Z", "DTEND:20260601T130000Z"),
    )
    result = parse_busy(data, MARCH)
    assert list(result.busy) == [Interval(MARCH.start, datetime(2026, 3, 2, 12, tzinfo=UTC))]


def test_reversed_event_counts_as_busy_rather_than_vanishing() -> None:
    data = ics(vevent("rev@test", "DTSTART:20260302T100000Z", "DTEND:20260302T090000Z"))
    busy = parse_busy(data, MARCH).busy
    assert list(busy) == [Interval(datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 2, 10, tzinfo=UTC))]


def test_endless_series_is_bounded_by_the_window() -> None:
    daily = vevent("daily@test", "DTSTART:20260101T070000Z", "DTEND:20260101T073000Z", "RRULE:FREQ=DAILY")
    window = Interval(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC))
    assert len(parse_busy(ics(daily), window).busy) == 7


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "calendar.invalid"),
        (b"this is not a calendar", "calendar.invalid"),
        (b"BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n", "calendar.invalid"),
        (
            ics(vevent("bad@test", "DTSTART:2026-03-01 nonsense", "DTEND:20260301T100000Z")),
            "calendar.invalid",
        ),
        (ics(vevent("nostart@test", "DTEND:20260301T100000Z")), "calendar.invalid"),
        (
            ics(vevent("sec@test", "DTSTART:20260302T100000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY")),
            "calendar.unsupported_recurrence",
        ),
        (b"\xff\xfe\x00garbage", "calendar.invalid"),
    ],
)
def test_invalid_input_gives_a_clear_error(data: bytes, code: str) -> None:
    with pytest.raises(InvalidCalendar) as info:
        parse_busy(data, MARCH)
    assert info.value.code == code
    assert info.value.message  # an English sentence for the log and the developer


def test_limits_on_size_occurrences_and_window() -> None:
    with pytest.raises(InvalidCalendar) as info:
        parse_busy(ics(WEEKLY), MARCH, max_bytes=100)
    assert info.value.code == "calendar.too_large"
    hourly = vevent("h@test", "DTSTART:20260301T000000Z", "DURATION:PT30M", "RRULE:FREQ=HOURLY")
    with pytest.raises(InvalidCalendar) as info:
        parse_busy(ics(hourly), MARCH, max_occurrences=100)
    assert info.value.code == "calendar.too_many_events"
    with pytest.raises(InvalidCalendar) as info:
        parse_busy(ics(WEEKLY), Interval(MARCH.start, MARCH.start + timedelta(days=500)))
    assert info.value.code == "calendar.window_too_long"


def test_events_across_the_expansion_chunks_count_once() -> None:
    """The window is expanded a fortnight at a time; what lies across a seam is one event, not two."""
    weeks = vevent("weeks@test", "DTSTART;VALUE=DATE:20260305", "DTEND;VALUE=DATE:20260405", "SUMMARY:Permisjon")
    night = vevent("night@test", "DTSTART:20260314T230000Z", "DTEND:20260315T010000Z")  # the first seam
    daily = vevent("d@test", "DTSTART:20260301T070000Z", "DTEND:20260301T073000Z", "RRULE:FREQ=DAILY;COUNT=60")
    result = parse_busy(ics(weeks, night, daily), MARCH)
    assert result.occurrences == 1 + 1 + 60


def test_a_year_of_plain_events_is_read_whole() -> None:
    """A full calendar (2,000 meetings over a year, 2,000 series for the expander) comes through whole."""
    start = datetime(2026, 3, 2, 7, tzinfo=UTC)
    events = [vevent(f"m{i}@test", f"DTSTART:{start + timedelta(hours=4 * i):%Y%m%dT%H%M%SZ}", "DURATION:PT45M")
              for i in range(2000)]
    year = Interval(datetime(2026, 3, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))
    result = parse_busy(ics(*events), year)
    assert result.occurrences == 2000 and len(result.busy) == 2000
