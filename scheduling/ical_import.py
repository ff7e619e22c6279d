"""Busy times from a resource's own calendar: an uploaded ``.ics`` file or a fetched feed body.

Only *when* someone is busy is kept: summaries, locations and attendees of private calendar events are
never read into the result, so nothing personal from a staff member's calendar reaches our database.

Rules:

- recurrence (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides) is expanded by ``recurring_ical_events``;
- ``TRANSP:TRANSPARENT``, Outlook's ``X-MICROSOFT-CDO-BUSYSTATUS:FREE`` and ``STATUS:CANCELLED`` are
  not busy;
- any TZID (with its VTIMEZONE, or an IANA name) is honoured; floating times and all-day dates are
  read in ``default_tz`` (an all-day event blocks that local day from midnight to midnight);
- events without length are not busy; an event whose end precedes its start is read with the two
  swapped (``recurring_ical_events`` does so: more busy time, never less); all is clipped to the window;
- limits on bytes, occurrences and window length keep a hostile or broken file from eating the server,
  and FREQ=SECONDLY/MINUTELY rules are refused for the same reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import recurring_ical_events
from icalendar import Calendar
from icalendar.cal import Component

from scheduling.availability import DEFAULT_TZ, zone
from scheduling.errors import InvalidCalendar
from scheduling.intervals import Interval, IntervalSet, to_utc

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_OCCURRENCES",
    "MAX_IMPORT_WINDOW",
    "ImportedBusy",
    "parse_busy",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_OCCURRENCES = 20_000
MAX_IMPORT_WINDOW = timedelta(days=400)
# How much of the window is expanded at a time: each chunk scans every series once, and an hourly series
# gives at most 336 occurrences in one before the occurrence limit is looked at again.
_CHUNK = timedelta(days=14)
_EXPLOSIVE_FREQS = frozenset({"SECONDLY", "MINUTELY"})

# what the parsers raise on malformed content; caught only around parsing and expansion
_PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


@dataclass(frozen=True, slots=True)
class ImportedBusy:
    """The result of one import: merged busy intervals plus counts for the import log."""

    busy: IntervalSet
    occurrences: int
    ignored_free: int
    ignored_cancelled: int


def parse_busy(
    data: bytes,
    window: Interval,
    *,
    default_tz: str = DEFAULT_TZ,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_occurrences: int = DEFAULT_MAX_OCCURRENCES,
) -> ImportedBusy:
    """Parse iCalendar ``data`` into busy UTC intervals inside ``window``.

    Raises :class:`InvalidCalendar` with code ``calendar.too_large``, ``calendar.invalid``,
    ``calendar.too_many_events``, ``calendar.unsupported_recurrence`` or ``calendar.window_too_long``.
    """
    if len(data) > max_bytes:
        raise InvalidCalendar(
            f"calendar is {len(data)} bytes, the limit is {max_bytes}", code="calendar.too_large"
        )
    if window.duration > MAX_IMPORT_WINDOW:
        raise InvalidCalendar("import window is longer than 400 days", code="calendar.window_too_long")
    tz = zone(default_tz)
    calendar = _parse(data)
    _refuse_explosive_rules(calendar)

    pairs: list[tuple[datetime, datetime]] = []
    occurrences = ignored_free = ignored_cancelled = 0
    seen: set[tuple[str, datetime, datetime]] = set()
    try:
        query = recurring_ical_events.of(calendar, components=["VEVENT"])
        # The window is read in fixed chunks: recurring_ical_events' after() halves its step after every
        # hit and scans every series at each step, so 2,000 plain events took 51 s of CPU (quadratic).
        # A chunk scans each series once; an event across a chunk's edge comes twice and counts once.
        chunk_start = window.start
        while chunk_start < window.end:
            chunk_end = min(chunk_start + _CHUNK, window.end)
            for event in query.between(chunk_start, chunk_end):
                start, end = _bounds(event, tz)
                key = (str(event.get("UID", "")), start, end)
                if key in seen or start >= window.end or end <= window.start:
                    continue
                seen.add(key)
                if _is_cancelled(event):
                    ignored_cancelled += 1
                    continue
                if _is_free(event):
                    ignored_free += 1
                    continue
                occurrences += 1
                if occurrences > max_occurrences:
                    raise InvalidCalendar(
                        f"calendar has more than {max_occurrences} events in the window",
                        code="calendar.too_many_events",
                    )
                start, end = max(start, window.start), min(end, window.end)
                if start < end:
                    pairs.append((start, end))
            chunk_start = chunk_end
    except InvalidCalendar:
        raise
    except _PARSE_ERRORS as exc:  # recurring_ical_events' own errors are ValueErrors too
        logger.info("calendar import failed while expanding: %s", exc)
        raise InvalidCalendar(f"calendar cannot be expanded: {exc}", code="calendar.invalid") from exc
    return ImportedBusy(
        busy=IntervalSet.from_pairs(pairs),
        occurrences=occurrences,
        ignored_free=ignored_free,
        ignored_cancelled=ignored_cancelled,
    )


def _parse(data: bytes) -> Calendar:
    if not data.strip():
        raise InvalidCalendar("calendar file is empty", code="calendar.invalid")
    try:
        parsed: Any = Calendar.from_ical(data)
    except _PARSE_ERRORS as exc:
        raise InvalidCalendar(f"not an iCalendar file: {exc}", code="calendar.invalid") from exc
    if not isinstance(parsed, Calendar) or parsed.name != "VCALENDAR":
        raise InvalidCalendar("file does not start with BEGIN:VCALENDAR", code="calendar.invalid")
    for component in parsed.walk("VEVENT"):
        if "DTSTART" not in component:
            raise InvalidCalendar("an event has no DTSTART", code="calendar.invalid")
        # icalendar is lenient and records unparsable values instead of raising; we refuse them
        bad = [name for name, _ in component.errors if name in {"DTSTART", "DTEND", "DURATION", "RRULE"}]
        if bad:
            raise InvalidCalendar(f"an event has an unreadable {bad[0]}", code="calendar.invalid")
    return parsed


def _refuse_explosive_rules(calendar: Calendar) -> None:
    for component in calendar.walk("VEVENT"):
        rules = component.get("RRULE")
        for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
            freqs = {str(f).upper() for f in rule.get("FREQ", [])}
            if freqs & _EXPLOSIVE_FREQS:
                raise InvalidCalendar(
                    "recurrence more often than hourly is not supported",
                    code="calendar.unsupported_recurrence",
                )


def _to_utc(value: date | datetime, tz: Any) -> datetime:
    if isinstance(value, datetime):
        # floating time (no TZID, no Z) is the calendar owner's local time
        return to_utc(value if value.tzinfo is not None else value.replace(tzinfo=tz))
    return to_utc(datetime.combine(value, time(0), tzinfo=tz))


def _bounds(event: Component, tz: Any) -> tuple[datetime, datetime]:
    raw_start = event.decoded("DTSTART")
    if "DTEND" in event:
        raw_end = event.decoded("DTEND")
    elif "DURATION" in event:
        raw_end = raw_start + event.decoded("DURATION")
    elif isinstance(raw_start, datetime):
        raw_end = raw_start  # RFC 5545: a date-time event without end takes no time
    else:
        raw_end = raw_start + timedelta(days=1)  # ... and a date event lasts that day
    return _to_utc(raw_start, tz), _to_utc(raw_end, tz)


def _is_cancelled(event: Component) -> bool:
    return str(event.get("STATUS", "")).upper() == "CANCELLED"


def _is_free(event: Component) -> bool:
    if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
        return True
    return str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).upper() == "FREE"
