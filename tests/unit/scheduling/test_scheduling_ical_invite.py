"""Invites and feeds read back with vobject, a parser that is not the one that wrote them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import vobject

from scheduling.errors import InvalidInterval, InvalidInvite
from scheduling.ical_invite import (
    AttendeeRole,
    CalendarUserType,
    InviteEvent,
    PartStat,
    Party,
    build_cancel,
    build_feed,
    build_request,
    make_uid,
)

STAMP = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
PAGE = "https://samkonsult.example.no/konsultasjoner/3f9a1c"
ORGANIZER = Party("koordinator@helgeland.example.no", "Kari Koordinator")
SPECIALIST = Party("oyvind.as@sykehus.example.no", "Øyvind Ås, overlege", role=AttendeeRole.CHAIR)
NURSE = Party("sykepleier@vefsn.example.no", "Siri Sykepleier", partstat=PartStat.ACCEPTED)
ROOM = Party(
    "helserom@vefsn.example.no",
    "Helserom Mosjøen",
    role=AttendeeRole.NON_PARTICIPANT,
    cutype=CalendarUserType.ROOM,
    rsvp=False,
)


def booking(**overrides: Any) -> InviteEvent:
    fields: dict[str, Any] = {
        "uid": make_uid("booking-42", "samkonsult.example.no"),
        "sequence": 0,
        "start": datetime(2026, 3, 17, 8, 0, tzinfo=UTC),
        "end": datetime(2026, 3, 17, 8, 30, tzinfo=UTC),
        "summary": "Samkonsultasjon (video)",
        "url": PAGE,
        "organizer": ORGANIZER,
        "attendees": (SPECIALIST, NURSE, ROOM),
        "location": "Helserom Mosjøen",
    }
    fields.update(overrides)
    return InviteEvent(**fields)


def read(data: bytes) -> Any:
    assert b"\r\n" in data  # RFC 5545 line endings
    return vobject.readOne(data.decode("utf-8"))


def params(prop: Any) -> dict[str, str]:
    return {k.upper(): v[0] for k, v in prop.params.items()}


def test_request_carries_everything_a_calendar_needs() -> None:
    cal = read(build_request(booking(), dtstamp=STAMP))
    assert cal.method.value == "REQUEST"
    ev = cal.vevent
    assert ev.uid.value == make_uid("booking-42", "samkonsult.example.no")
    assert int(ev.sequence.value) == 0
    assert ev.dtstamp.value == STAMP
    assert ev.dtstart.value == datetime(2026, 3, 17, 8, 0, tzinfo=UTC)
    assert ev.dtend.value == datetime(2026, 3, 17, 8, 30, tzinfo=UTC)
    assert ev.dtstart.value.utcoffset() == timedelta(0)
    assert ev.summary.value == "Samkonsultasjon (video)"
    assert ev.location.value == "Helserom Mosjøen"
    assert ev.url.value == PAGE
    assert PAGE in ev.description.value
    assert ev.status.value == "CONFIRMED"
    assert ev.organizer.value == "mailto:koordinator@helgeland.example.no"
    assert params(ev.organizer)["CN"] == "Kari Koordinator"
    attendees = {a.value: params(a) for a in ev.attendee_list}
    assert attendees["mailto:oyvind.as@sykehus.example.no"] == {
        "CN": "Øyvind Ås, overlege",  # comma and Norwegian letters survive the quoting
        "CUTYPE": "INDIVIDUAL",
        "ROLE": "CHAIR",
        "PARTSTAT": "NEEDS-ACTION",
        "RSVP": "TRUE",
    }
    assert attendees["mailto:sykepleier@vefsn.example.no"]["PARTSTAT"] == "ACCEPTED"
    assert attendees["mailto:helserom@vefsn.example.no"]["CUTYPE"] == "ROOM"
    assert attendees["mailto:helserom@vefsn.example.no"]["RSVP"] == "FALSE"


def test_reschedule_then_cancel_is_one_event_updated_then_cancelled() -> None:
    first = booking()
    moved = first.rescheduled(
        datetime(2026, 3, 18, 13, 0, tzinfo=UTC), datetime(2026, 3, 18, 13, 30, tzinfo=UTC)
    )
    cancelled = moved.as_cancelled()
    messages = [
        build_request(first, dtstamp=STAMP),
        build_request(moved, dtstamp=STAMP + timedelta(hours=1)),
        build_cancel(cancelled, dtstamp=STAMP + timedelta(hours=2)),
    ]
    # a calendar client keeps one event per UID and applies a message only if its SEQUENCE is newer
    store: dict[str, Any] = {}
    methods = []
    for data in messages:
        cal = read(data)
        methods.append(cal.method.value)
        ev = cal.vevent
        current = store.get(ev.uid.value)
        if current is None or int(ev.sequence.value) > int(current.sequence.value):
            store[ev.uid.value] = ev
        if cal.method.value == "REQUEST" and current is not None:
            assert ev.uid.value == current.uid.value
    assert methods == ["REQUEST", "REQUEST", "CANCEL"]
    assert len(store) == 1
    (event,) = store.values()
    assert int(event.sequence.value) == 2
    assert event.status.value == "CANCELLED"
    assert event.dtstart.value == datetime(2026, 3, 18, 13, 0, tzinfo=UTC)
    # the rescheduled request in between had the new time and SEQUENCE 1
    middle = read(messages[1]).vevent
    assert (int(middle.sequence.value), middle.dtstart.value.hour) == (1, 13)
    # the cancel still names the attendees, as iTIP requires
    assert len(read(messages[2]).vevent.attendee_list) == 3


def test_no_health_details_and_no_secret_in_the_invite() -> None:
    text = build_request(booking(), dtstamp=STAMP).decode()
    assert "?" not in text and "#" not in text
    for word in ("reason", "diagnos", "årsak", "code", "kode"):
        assert word not in text.lower()


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://samkonsult.example.no/k/1?code=123456", "invite.url_secret"),
        ("https://samkonsult.example.no/k/1#token", "invite.url_secret"),
        ("https://user:pw@samkonsult.example.no/k/1", "invite.url_secret"),
        ("http://samkonsult.example.no/k/1", "invite.url_scheme"),
        ("javascript:alert(1)", "invite.url_scheme"),
    ],
)
def test_links_that_could_carry_a_secret_are_refused(url: str, code: str) -> None:
    with pytest.raises(InvalidInvite) as info:
        booking(url=url)
    assert info.value.code == code


def test_plain_http_is_allowed_for_local_development() -> None:
    assert booking(url="http://localhost:8080/k/1").url == "http://localhost:8080/k/1"


def test_method_and_status_must_match() -> None:
    with pytest.raises(InvalidInvite):
        build_cancel(booking(), dtstamp=STAMP)  # not cancelled: SEQUENCE was not raised
    cancelled = booking().as_cancelled()
    with pytest.raises(InvalidInvite):
        build_request(cancelled, dtstamp=STAMP)
    with pytest.raises(InvalidInvite):
        cancelled.as_cancelled()
    with pytest.raises(InvalidInvite):
        cancelled.rescheduled(datetime(2026, 3, 19, 8, tzinfo=UTC), datetime(2026, 3, 19, 9, tzinfo=UTC))


def test_attendee_change_raises_sequence() -> None:
    changed = booking().with_attendees([SPECIALIST, NURSE])
    assert (changed.sequence, changed.uid) == (1, booking().uid)


def test_injection_and_bad_values_are_refused() -> None:
    with pytest.raises(InvalidInvite):
        booking(summary="Samkonsultasjon\r\nATTENDEE:mailto:evil@example.com")
    with pytest.raises(InvalidInvite):
        Party("not-an-email", "X")
    with pytest.raises(InvalidInvite):
        Party("a@b.no", "Name\nX-EVIL:1")
    with pytest.raises(InvalidInvite):
        booking(uid="no-domain")
    with pytest.raises(InvalidInterval):
        booking(end=datetime(2026, 3, 17, 7, 0, tzinfo=UTC))


def test_uid_is_stable_per_booking_and_opaque() -> None:
    uid = make_uid("booking-42", "samkonsult.example.no")
    assert uid == make_uid("booking-42", "samkonsult.example.no")
    assert uid != make_uid("booking-43", "samkonsult.example.no")
    assert "booking-42" not in uid and uid.endswith("@samkonsult.example.no")


def test_feed_publishes_many_events_without_people() -> None:
    other = booking(
        uid=make_uid("booking-43", "samkonsult.example.no"),
        start=datetime(2026, 3, 20, 9, tzinfo=UTC),
        end=datetime(2026, 3, 20, 10, tzinfo=UTC),
    )
    data = build_feed([booking(), other.as_cancelled()], name="Øyvind Ås – konsultasjoner", dtstamp=STAMP)
    cal = read(data)
    assert cal.method.value == "PUBLISH"
    assert cal.x_wr_calname.value == "Øyvind Ås – konsultasjoner"
    events = cal.vevent_list
    assert [e.status.value for e in events] == ["CONFIRMED", "CANCELLED"]
    assert len({e.uid.value for e in events}) == 2
    for e in events:
        assert "attendee" not in e.contents and "organizer" not in e.contents
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT15M" in data.decode()
