"""iCalendar invites (iTIP REQUEST and CANCEL, RFC 5546) and subscribable feeds (PUBLISH).

What an invite may carry is deliberately narrow: a neutral title, times in UTC, the health room's name,
and a link to the consultation page. Never the reason, a diagnosis, or a join code: invites travel by
ordinary email and sit in calendars that others can see. The link must not carry a secret either, so a
URL with a query, fragment or user info is refused; patients and relatives get their code separately.

Versioning follows iTIP: the UID never changes for a booking (:func:`make_uid`), and every change raises
SEQUENCE. :meth:`InviteEvent.rescheduled` and :meth:`InviteEvent.as_cancelled` return the next version,
so a caller cannot send a cancellation without raising the sequence.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from icalendar import Calendar, Event, vCalAddress, vDuration

from scheduling.errors import InvalidInvite
from scheduling.intervals import Interval, to_utc

__all__ = [
    "PRODID",
    "AttendeeRole",
    "CalendarUserType",
    "InviteEvent",
    "PartStat",
    "Party",
    "build_cancel",
    "build_feed",
    "build_request",
    "make_uid",
]

PRODID = "-//Samkonsult//Scheduling//NO"
_UID_NAMESPACE = uuid.UUID("6f1d7c8e-2b0a-5d7e-9a51-5a6b6f6e7375")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class AttendeeRole(StrEnum):
    """ROLE parameter of an ATTENDEE (RFC 5545 3.2.16)."""

    CHAIR = "CHAIR"
    REQ_PARTICIPANT = "REQ-PARTICIPANT"
    OPT_PARTICIPANT = "OPT-PARTICIPANT"
    NON_PARTICIPANT = "NON-PARTICIPANT"


class PartStat(StrEnum):
    """PARTSTAT parameter of an ATTENDEE (RFC 5545 3.2.12)."""

    NEEDS_ACTION = "NEEDS-ACTION"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    TENTATIVE = "TENTATIVE"


class CalendarUserType(StrEnum):
    """CUTYPE parameter: a health room is invited as a ROOM, equipment as a RESOURCE."""

    INDIVIDUAL = "INDIVIDUAL"
    ROOM = "ROOM"
    RESOURCE = "RESOURCE"


def _check_text(value: str, what: str) -> None:
    # a line break in a property or parameter would let a value forge further calendar lines
    if any(ch in value for ch in "\r\n\x00"):
        raise InvalidInvite(f"{what} contains a line break or NUL", code="invite.control_character")


@dataclass(frozen=True, slots=True)
class Party:
    """An organizer or attendee: an email address and a display name (CN)."""

    email: str
    name: str
    role: AttendeeRole = AttendeeRole.REQ_PARTICIPANT
    partstat: PartStat = PartStat.NEEDS_ACTION
    cutype: CalendarUserType = CalendarUserType.INDIVIDUAL
    rsvp: bool = True

    def __post_init__(self) -> None:
        _check_text(self.name, "name")
        local, _, domain = self.email.partition("@")
        if not local or "." not in domain or any(ch.isspace() or ch in ':;,"<>' for ch in self.email):
            raise InvalidInvite(f"not a usable email address: {self.email!r}", code="invite.email")

    def address(self, *, as_attendee: bool) -> vCalAddress:
        """The ``mailto:`` calendar address with its parameters."""
        addr = vCalAddress(f"mailto:{self.email}")
        addr.params["CN"] = self.name
        if as_attendee:
            addr.params["CUTYPE"] = self.cutype.value
            addr.params["ROLE"] = self.role.value
            addr.params["PARTSTAT"] = self.partstat.value
            addr.params["RSVP"] = "TRUE" if self.rsvp else "FALSE"
        return addr


def _check_url(url: str) -> None:
    _check_text(url, "url")
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS)
    if not secure or not parts.hostname:
        raise InvalidInvite("consultation link must be an https URL", code="invite.url_scheme")
    if parts.query or parts.fragment or parts.username or parts.password:
        # tokens hide in these places; the page itself asks the user to log in or enter a code
        raise InvalidInvite(
            "consultation link must not carry a query, fragment or credentials", code="invite.url_secret"
        )


def make_uid(booking_id: str, domain: str) -> str:
    """A UID that stays the same for a booking forever but does not reveal the booking's id."""
    return f"{uuid.uuid5(_UID_NAMESPACE, booking_id)}@{domain}"


@dataclass(frozen=True, slots=True)
class InviteEvent:
    """One consultation as a calendar event, in one version (``sequence``).

    ``summary`` must be a neutral title such as "Samkonsultasjon (video)"; ``description`` defaults to a
    bilingual line with the link. Neither may contain health details: that is the caller's duty, this
    class can only refuse line breaks and secret-bearing links.
    """

    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    url: str
    organizer: Party
    attendees: tuple[Party, ...] = ()
    location: str | None = None
    description: str | None = None
    cancelled: bool = False

    def __post_init__(self) -> None:
        interval = Interval(self.start, self.end)  # validates aware and start < end
        object.__setattr__(self, "start", interval.start)
        object.__setattr__(self, "end", interval.end)
        if self.sequence < 0:
            raise InvalidInvite("sequence must not be negative", code="invite.sequence")
        if not self.uid or "@" not in self.uid:
            raise InvalidInvite("uid must look like id@domain (use make_uid)", code="invite.uid")
        for what, value in (("uid", self.uid), ("summary", self.summary)):
            _check_text(value, what)
        if self.location is not None:
            _check_text(self.location, "location")
        _check_url(self.url)

    def rescheduled(self, start: datetime, end: datetime, *, location: str | None = None) -> InviteEvent:
        """The next version at a new time (and optionally a new room): same UID, SEQUENCE + 1."""
        if self.cancelled:
            raise InvalidInvite("a cancelled consultation cannot be rescheduled", code="invite.cancelled")
        return dataclasses.replace(
            self,
            start=start,
            end=end,
            location=self.location if location is None else location,
            sequence=self.sequence + 1,
        )

    def with_attendees(self, attendees: Iterable[Party]) -> InviteEvent:
        """The next version with another attendee list (someone added or removed): SEQUENCE + 1."""
        return dataclasses.replace(self, attendees=tuple(attendees), sequence=self.sequence + 1)

    def as_cancelled(self) -> InviteEvent:
        """The cancelled version: same UID, SEQUENCE + 1, STATUS:CANCELLED."""
        if self.cancelled:
            raise InvalidInvite("the consultation is already cancelled", code="invite.cancelled")
        return dataclasses.replace(self, cancelled=True, sequence=self.sequence + 1)

    @property
    def text(self) -> str:
        """The DESCRIPTION: the caller's text, or a bilingual line with the link."""
        if self.description is not None:
            return self.description
        return f"Lenke til konsultasjonen / Link to the consultation: {self.url}"


def _calendar(method: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    return cal


def _vevent(event: InviteEvent, dtstamp: datetime, *, with_people: bool) -> Event:
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", to_utc(dtstamp))
    vevent.add("dtstart", event.start)  # UTC, written with Z: no VTIMEZONE needed
    vevent.add("dtend", event.end)
    vevent.add("summary", event.summary)
    vevent.add("url", event.url)
    vevent.add("description", event.text)
    if event.location:
        vevent.add("location", event.location)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("transp", "TRANSPARENT" if event.cancelled else "OPAQUE")
    if with_people:
        vevent.add("organizer", event.organizer.address(as_attendee=False))
        for party in event.attendees:
            vevent.add("attendee", party.address(as_attendee=True))
    return vevent


def build_request(event: InviteEvent, *, dtstamp: datetime) -> bytes:
    """A ``METHOD:REQUEST`` invite (new booking or a change); ``dtstamp`` is the caller's clock."""
    if event.cancelled:
        raise InvalidInvite("a cancelled event is sent with build_cancel", code="invite.method")
    cal = _calendar("REQUEST")
    cal.add_component(_vevent(event, dtstamp, with_people=True))
    return bytes(cal.to_ical())


def build_cancel(event: InviteEvent, *, dtstamp: datetime) -> bytes:
    """A ``METHOD:CANCEL`` message; ``event`` must come from :meth:`InviteEvent.as_cancelled`."""
    if not event.cancelled:
        raise InvalidInvite("use InviteEvent.as_cancelled() so SEQUENCE is raised", code="invite.method")
    cal = _calendar("CANCEL")
    cal.add_component(_vevent(event, dtstamp, with_people=True))
    return bytes(cal.to_ical())


def build_feed(
    events: Sequence[InviteEvent],
    *,
    name: str,
    dtstamp: datetime,
    refresh: timedelta = timedelta(minutes=15),
) -> bytes:
    """A subscribable ``METHOD:PUBLISH`` calendar with one VEVENT per consultation.

    Feeds leave out ORGANIZER and ATTENDEE: a feed URL is fetched by calendar apps with nothing but its
    token, so it should reveal who takes part no more than needed. Cancelled consultations stay in the
    feed with STATUS:CANCELLED, so subscribers see the cancellation instead of a silent disappearance.
    """
    _check_text(name, "calendar name")
    cal = _calendar("PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("name", name)
    cal.add("refresh-interval", vDuration(refresh), parameters={"VALUE": "DURATION"})  # RFC 7986
    cal.add("x-published-ttl", vDuration(refresh))  # x-props get no type inference
    for event in events:
        cal.add_component(_vevent(event, dtstamp, with_people=False))
    return bytes(cal.to_ical())
