"""Slot search: the earliest start times at which every required resource is free at once.

Rules, in the words a coordinator would use:

- **Hours**: the consultation itself, ``[start, start + duration)``, lies within each resource's
  availability (weekly hours, exceptions, holidays; see :mod:`scheduling.availability`).
- **Buffers** widen the *busy* intervals, not the opening hours: a busy interval ``[s, e)`` blocks
  ``[s - buffer_after, e + buffer_before)`` for the new consultation. That is the same as requiring
  ``[start - buffer_before, end + buffer_after)`` to be free of bookings and imported busy times, while
  allowing a consultation to start right at opening time (preparation before opening is the resource's
  own affair; a room that needs set-up inside its hours should have its hours start later).
  Store a booking as :attr:`Slot.blocked` (buffers included) so later searches keep its buffers too;
  buffers of neighbours then add up, which is the conservative choice.
- **Notice**: no start before ``now + min_notice``; ``now`` is passed in, never read from the system.
- **Step**: starts lie on a grid of ``step`` counted from local midnight in ``query.tz``, so with a
  15-minute step starts are at :00, :15, :30, :45 on the wall clock, on both DST Sundays too.
- **Window**: the whole consultation (without buffers) lies inside ``query.window``.
- **Any of a group**: a requirement lists candidates in order of preference; each slot names the chosen
  candidate per requirement. A resource never fills two requirements of the same slot.

How: per resource, free = hours − widened busy; the instants at which a consultation of length ``d``
can start are ``[a, b - d]`` for each free ``[a, b)``. Those start sets are unioned over the candidates
of a requirement (a start set, unlike a free set, may be unioned: each start belongs to one candidate
whose free time covers the whole consultation) and intersected over requirements. Closed start ranges
are kept as half-open ``[a, b - d + 1 µs)``, exact because datetimes count whole microseconds.
The window is searched in chunks that double in length (1, 2, 4, ... days) so that a search with free
time tomorrow does not pay for four weeks of bookings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling.availability import DEFAULT_TZ, Availability, HolidayCalendar, expand, zone
from scheduling.errors import InvalidSearch, SlotUnavailable
from scheduling.intervals import UTC, Interval, IntervalSet, to_utc

__all__ = [
    "MAX_WINDOW",
    "Assignment",
    "Requirement",
    "ResourceCalendar",
    "Slot",
    "SlotQuery",
    "check_slot",
    "find_slots",
]

MAX_WINDOW = timedelta(days=366)
_TICK = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ResourceCalendar:
    """Everything slot search needs to know about one resource.

    ``busy`` holds existing reservations (as their blocked intervals) and imported busy times, in one
    set; build it with :meth:`IntervalSet.from_pairs` straight from database rows.
    """

    resource_id: str
    availability: Availability
    busy: IntervalSet = field(default_factory=IntervalSet)


@dataclass(frozen=True, slots=True)
class Requirement:
    """One participant or thing the consultation needs: a named resource or any one of a group.

    ``key`` names the role in the result (e.g. ``"specialist"``, ``"nurse"``, ``"room"``);
    ``candidates`` are resource ids in order of preference.
    """

    key: str
    candidates: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.key:
            raise InvalidSearch("requirement needs a key", code="search.requirement_key")
        if not self.candidates:
            raise InvalidSearch(f"requirement {self.key!r} has no candidates", code="search.no_candidates")
        if len(set(self.candidates)) != len(self.candidates):
            raise InvalidSearch(
                f"requirement {self.key!r} repeats a candidate", code="search.duplicate_candidate"
            )

    @classmethod
    def one(cls, key: str, resource_id: str) -> Requirement:
        """A requirement for exactly this resource."""
        return cls(key, (resource_id,))

    @classmethod
    def any_of(cls, key: str, resource_ids: Iterable[str]) -> Requirement:
        """A requirement for any one of these resources, earlier ones preferred."""
        return cls(key, tuple(resource_ids))


@dataclass(frozen=True, slots=True)
class SlotQuery:
    """A slot search: who is needed, for how long, in which window, with which buffers and step."""

    requirements: tuple[Requirement, ...]
    window: Interval
    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    step: timedelta = timedelta(minutes=15)
    limit: int = 10
    tz: str = DEFAULT_TZ

    def __post_init__(self) -> None:
        if not self.requirements:
            raise InvalidSearch("at least one requirement is needed", code="search.no_requirements")
        keys = [r.key for r in self.requirements]
        if len(set(keys)) != len(keys):
            raise InvalidSearch("requirement keys must be unique", code="search.duplicate_requirement")
        if self.duration <= timedelta(0):
            raise InvalidSearch("duration must be positive", code="search.duration")
        if (
            self.buffer_before < timedelta(0)
            or self.buffer_after < timedelta(0)
            or self.min_notice < timedelta(0)
        ):
            raise InvalidSearch("buffers and notice must not be negative", code="search.negative")
        step_us = _micros(self.step)
        if step_us <= 0 or step_us % 1_000_000 or _micros(_DAY) % step_us:
            # a step that divides the day gives the same grid every day, counted from local midnight
            raise InvalidSearch("step must be whole seconds dividing 24 hours", code="search.step")
        if not 1 <= self.limit <= 1000:
            raise InvalidSearch("limit must be 1..1000", code="search.limit")
        if self.window.duration > MAX_WINDOW:
            raise InvalidSearch("search window longer than a year", code="search.window_too_long")
        zone(self.tz)


@dataclass(frozen=True, slots=True)
class Assignment:
    """The resource chosen for one requirement of a slot."""

    requirement: str
    resource_id: str


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable time: the consultation ``[start, end)`` in UTC and who fills each requirement.

    ``blocked`` is ``[start - buffer_before, end + buffer_after)``: what a booking should reserve.
    """

    start: datetime
    end: datetime
    blocked: Interval
    assignments: tuple[Assignment, ...]

    def resource_for(self, requirement: str) -> str:
        """The resource id chosen for ``requirement``; ``KeyError`` when the slot has no such key."""
        for a in self.assignments:
            if a.requirement == requirement:
                return a.resource_id
        raise KeyError(requirement)

    @property
    def resource_ids(self) -> tuple[str, ...]:
        """Every chosen resource, in requirement order."""
        return tuple(a.resource_id for a in self.assignments)


def _micros(delta: timedelta) -> int:
    return delta // _TICK


def _resource_starts(
    calendar: ResourceCalendar,
    region: Interval,
    query: SlotQuery,
    holiday_calendar: HolidayCalendar | None,
) -> IntervalSet:
    """Instants in ``region`` at which ``calendar``'s resource can start the consultation."""
    hours = expand(calendar.availability, region, holiday_calendar=holiday_calendar)
    if not hours:
        return hours
    # only busy intervals that can reach the region once widened matter; bisect finds them
    reach = Interval(region.start - query.buffer_before, region.end + query.buffer_after)
    blocked = calendar.busy.clip(reach).widen(query.buffer_after, query.buffer_before)
    return hours.difference(blocked).shorten_ends(query.duration - _TICK)


def _align_up(moment: datetime, step_us: int, tz: ZoneInfo) -> datetime:
    """The first instant ``>= moment`` whose local wall time is a multiple of the step since midnight."""
    offset = moment.astimezone(tz).utcoffset() or timedelta(0)
    candidate = _ceil_local(moment, offset, step_us)
    new_offset = candidate.astimezone(tz).utcoffset() or timedelta(0)
    if new_offset == offset:
        return candidate
    # a DST change lies between moment and candidate: the grid after it is counted in the new offset.
    # Only steps that do not divide an hour get here for Europe/Oslo.
    candidate = _ceil_local(moment, new_offset, step_us)
    while (candidate.astimezone(tz).utcoffset() or timedelta(0)) != new_offset:
        candidate += timedelta(microseconds=step_us)
    return candidate


def _ceil_local(moment: datetime, offset: timedelta, step_us: int) -> datetime:
    local_us = _micros(moment - _EPOCH) + _micros(offset)
    return moment + timedelta(microseconds=-local_us % step_us)


def _assign(
    moment: datetime,
    requirements: Sequence[Requirement],
    starts: Mapping[str, IntervalSet],
) -> tuple[Assignment, ...] | None:
    """Choose one free candidate per requirement, all distinct, preferring earlier candidates.

    Backtracking rather than greedy: if the preferred nurse is also the only possible pharmacist, a
    greedy pick would miss a slot that exists. Requirements are few, so this stays cheap.
    """
    free = [[c for c in r.candidates if starts[c].contains_instant(moment)] for r in requirements]
    chosen: list[str] = []

    def pick(i: int) -> bool:
        if i == len(requirements):
            return True
        for candidate in free[i]:
            if candidate not in chosen:
                chosen.append(candidate)
                if pick(i + 1):
                    return True
                chosen.pop()
        return False

    if not pick(0):
        return None
    return tuple(Assignment(r.key, c) for r, c in zip(requirements, chosen, strict=True))


def _check_known(query: SlotQuery, calendars: Mapping[str, ResourceCalendar]) -> None:
    for r in query.requirements:
        for c in r.candidates:
            if c not in calendars:
                raise InvalidSearch(f"no calendar for resource {c!r}", code="search.unknown_resource")


def find_slots(
    query: SlotQuery,
    calendars: Mapping[str, ResourceCalendar],
    *,
    now: datetime,
    holiday_calendar: HolidayCalendar | None = None,
) -> list[Slot]:
    """The earliest ``query.limit`` slots, in order of start time.

    ``calendars`` maps every candidate resource id to its calendar; ``now`` is the caller's clock.
    Raises :class:`InvalidSearch` for an unknown resource or a naive ``now``.
    """
    _check_known(query, calendars)
    tz = zone(query.tz)
    step_us = _micros(query.step)
    earliest = max(query.window.start, to_utc(now) + query.min_notice)
    last_start = query.window.end - query.duration
    resource_ids = list(dict.fromkeys(c for r in query.requirements for c in r.candidates))

    slots: list[Slot] = []
    chunk_start = earliest
    chunk_len = _DAY
    while chunk_start <= last_start and len(slots) < query.limit:
        chunk_end = min(chunk_start + chunk_len, last_start + _TICK)  # starts in [chunk_start, chunk_end)
        region = Interval(chunk_start, chunk_end - _TICK + query.duration)
        starts = {
            rid: _resource_starts(calendars[rid], region, query, holiday_calendar) for rid in resource_ids
        }

        common: IntervalSet | None = None
        for req in query.requirements:
            either = IntervalSet()
            for c in req.candidates:
                either = either.union(starts[c])
            common = either if common is None else common.intersection(either)
            if not common:
                break
        if common:
            _collect(common.clip(Interval(chunk_start, chunk_end)), query, starts, tz, step_us, slots)
        chunk_start = chunk_end
        chunk_len *= 2
    return slots


def _collect(
    common: IntervalSet,
    query: SlotQuery,
    starts: Mapping[str, IntervalSet],
    tz: ZoneInfo,
    step_us: int,
    slots: list[Slot],
) -> None:
    step = timedelta(microseconds=step_us)
    for lo, hi in common.pairs():
        moment = _align_up(lo, step_us, tz)
        while moment < hi:
            assignments = _assign(moment, query.requirements, starts)
            if assignments is not None:
                slots.append(_make_slot(moment, query, assignments))
                if len(slots) >= query.limit:
                    return
            moment = _align_up(moment + step, step_us, tz)


def _make_slot(start: datetime, query: SlotQuery, assignments: tuple[Assignment, ...]) -> Slot:
    end = start + query.duration
    return Slot(
        start=start,
        end=end,
        blocked=Interval(start - query.buffer_before, end + query.buffer_after),
        assignments=assignments,
    )


def check_slot(
    query: SlotQuery,
    calendars: Mapping[str, ResourceCalendar],
    *,
    start: datetime,
    chosen: Mapping[str, str],
    now: datetime,
    holiday_calendar: HolidayCalendar | None = None,
) -> Slot:
    """Re-check one proposed slot just before booking it; return it or raise :class:`SlotUnavailable`.

    ``chosen`` maps requirement key to resource id (as shown to the coordinator). Run it inside the
    booking transaction with freshly loaded busy times; the database constraint stays the last guard.
    The step grid is not enforced here, so a coordinator may book an off-grid time on purpose.
    """
    _check_known(query, calendars)
    start = to_utc(start)
    if set(chosen) != {r.key for r in query.requirements}:
        raise InvalidSearch("a resource must be chosen for every requirement", code="search.assignment")
    if len(set(chosen.values())) != len(chosen):
        raise SlotUnavailable("one resource cannot fill two requirements", code="slot.same_resource")
    if start < to_utc(now) + query.min_notice:
        raise SlotUnavailable("the slot is inside the minimum notice", code="slot.notice")
    if not (query.window.start <= start and start + query.duration <= query.window.end):
        raise SlotUnavailable("the slot is outside the search window", code="slot.outside_window")
    consultation = Interval(start, start + query.duration)
    for req in query.requirements:
        rid = chosen[req.key]
        if rid not in req.candidates:
            raise InvalidSearch(f"{rid!r} is not a candidate for {req.key!r}", code="search.assignment")
        calendar = calendars[rid]
        if not expand(calendar.availability, consultation, holiday_calendar=holiday_calendar).covers(
            consultation
        ):
            raise SlotUnavailable(
                f"{rid!r} is not available then", resource_id=rid, code="slot.outside_hours"
            )
        blocked = consultation.widen(query.buffer_before, query.buffer_after)
        if calendar.busy.overlaps(blocked):
            raise SlotUnavailable(f"{rid!r} is already busy then", resource_id=rid, code="slot.busy")
    return _make_slot(start, query, tuple(Assignment(r.key, chosen[r.key]) for r in query.requirements))
