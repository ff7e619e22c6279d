"""Referral queue order and response time, feed tokens, DST-correct bookings, calendar imports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest
import vobject
from aiohttp import web
from aiohttp.test_utils import TestServer

from scheduling.feed_addresses import FeedAddressPolicy
from scheduling.models import ReferralStatus, Urgency
from scheduling.services.calendar_sources import CalendarSourceService
from scheduling.services.factory import SchedulingServices
from scheduling.services.views import BookRequest, ReferralInput, RescheduleRequest, SlotSearchInput
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.errors import NotFound, ValidationFailed
from tests.integration.scheduling.conftest import OSLO, World, oslo

BUSY_ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:busy-1\r
DTSTAMP:20261101T000000Z\r
DTSTART;TZID=Europe/Oslo:20261202T080000\r
DTEND;TZID=Europe/Oslo:20261202T120000\r
SUMMARY:Poliklinikk\r
END:VEVENT\r
END:VCALENDAR\r
"""


async def test_referral_queue_orders_by_urgency_then_waiting_time(
        db: Database, services: SchedulingServices, world: World, clock: FixedClock) -> None:
    nurse = world.actors["sykepleier.rodoy"]
    created = {}
    for label, urgency, patient in (("week-old", Urgency.WEEK, "Astrid"), ("four", Urgency.FOUR_WEEKS, "Marit"),
                                    ("day", Urgency.DAY, "Marit"), ("week-new", Urgency.WEEK, "Marit")):
        async with db.session() as session:
            ref = await services.referrals.create(session, nurse, ReferralInput(
                patient_public_id=world.patients[patient], reason=f"Grunn {label}", urgency=urgency,
                otherwise_hospital="Nordlandssykehuset Bodø", travel_hours=5.0))
        created[ref.public_id] = label
        clock.advance(timedelta(hours=1))
    async with db.session() as session:
        queue = await services.referrals.queue(session, world.actors["koordinator"])
    labels = [created.get(e.referral.public_id, "demo-" + e.referral.urgency.value) for e in queue]
    # demo referrals: Johan (day, Lurøy) and Astrid (week, created 30 h before the demo clock)
    assert labels == ["demo-day", "day", "demo-week", "week-old", "week-new", "four"]
    day_entry = queue[1]
    assert day_entry.referral.due_at == day_entry.referral.created_at + timedelta(days=1)
    assert day_entry.waited == timedelta(hours=2) and not day_entry.overdue

    ref_id = next(k for k, v in created.items() if v == "day")
    async with db.session(write_lock=True) as session:
        booking = await services.bookings.book(session, world.actors["koordinator"], BookRequest(
            consultation_type_id=world.types["short_follow_up"], start=oslo(2026, 11, 25, 10),
            chosen=(("specialist", world.resources["Ingrid Hansen"]),), referral_public_id=ref_id))
    async with db.session() as session:
        ref = await services.referrals.get(session, world.actors["koordinator"], ref_id)
    assert ref.status is ReferralStatus.BOOKED and ref.response_time == timedelta(hours=2)
    assert booking.referral_public_id == ref_id and booking.patient_public_id == world.patients["Marit"]
    async with db.session() as session:
        queue = await services.referrals.queue(session, world.actors["koordinator"])
    assert ref_id not in {e.referral.public_id for e in queue}


async def test_feed_token_gives_the_feed_until_revoked(db: Database, services: SchedulingServices,
                                                       world: World, clock: FixedClock) -> None:
    specialist = world.actors["lege"]
    async with db.session() as session:
        token = await services.feeds.create_token(session, specialist, world.resources["Ingrid Hansen"], "iPhone")
    async with db.session() as session:
        cal = vobject.readOne((await services.feeds.feed(session, token.token)).decode("utf-8"))
    # the feed reaches 30 days back: the demo history's consultations, all over before today
    upcoming = [e for e in cal.vevent_list if e.dtend.value > clock.now()]
    assert len(upcoming) == 2  # the demo's joint consultations: one about to start, one tomorrow
    today = datetime.combine(clock.now().astimezone(OSLO).date(), time(0), tzinfo=OSLO)
    assert all(e.dtend.value <= today for e in cal.vevent_list if e not in upcoming)
    events = upcoming
    serialized = cal.serialize()
    assert "Marit" not in serialized and "Astrid" not in serialized
    assert {e.status.value for e in events} == {"CONFIRMED"}
    with pytest.raises(NotFound):
        async with db.session() as session:
            await services.feeds.feed(session, token.token + "x")
    async with db.session() as session:
        await services.feeds.revoke(session, specialist, token.id)
    with pytest.raises(NotFound):
        async with db.session() as session:
            await services.feeds.feed(session, token.token)


# October 2025: the demo history fills the specialist's days of the autumn of 2026 (the test clock's year)
@pytest.mark.parametrize(("before", "after"), [((2025, 10, 24), (2025, 10, 27)), ((2027, 3, 24), (2027, 3, 30))],
                         ids=["october", "march-around-easter"])
async def test_bookings_across_dst_keep_local_times(
        db: Database, services: SchedulingServices, world: World, clock: FixedClock,
        before: tuple[int, int, int], after: tuple[int, int, int]) -> None:
    clock.current = oslo(*before, 7) - timedelta(days=3)
    coordinator = world.actors["koordinator"]
    request = BookRequest(consultation_type_id=world.types["short_follow_up"], start=oslo(*before, 10),
                          chosen=(("specialist", world.resources["Ingrid Hansen"]),),
                          patient_public_id=world.patients["Astrid"])
    async with db.session(write_lock=True) as session:
        friday = await services.bookings.book(session, coordinator, request)
    async with db.session(write_lock=True) as session:
        monday = await services.bookings.book(session, coordinator, replace(
            request, start=oslo(*after, 10), patient_public_id=world.patients["Marit"]))
    assert friday.start.astimezone(OSLO).hour == monday.start.astimezone(OSLO).hour == 10
    assert friday.start.utcoffset() == monday.start.utcoffset() == timedelta(0)
    assert abs(friday.start.hour - monday.start.hour) == 1  # the UTC hour moved, the wall clock did not
    async with db.session(write_lock=True) as session:
        moved = await services.bookings.reschedule(session, coordinator, friday.public_id,
                                                   RescheduleRequest(start=oslo(*after, 11)))
    assert moved.start.astimezone(OSLO).hour == 11
    async with db.session() as session:
        slots = await services.slots.search(session, coordinator, SlotSearchInput(
            consultation_type_id=world.types["short_follow_up"], window_start=oslo(*before, 0),
            window_end=oslo(*after, 23), limit=200, step_minutes=15))
    firsts: dict[object, int] = {}
    for s in slots:
        firsts.setdefault(s.start.astimezone(OSLO).date(), s.start.astimezone(OSLO).hour)
    assert set(firsts.values()) == {8}  # opening time 08:00 local on both sides of the change
    starts = {s.start for s in slots}
    assert monday.start not in starts and oslo(*after, 11) not in starts


async def test_joint_consultation_needs_the_rooms_municipality(db: Database, services: SchedulingServices,
                                                               world: World) -> None:
    coordinator = world.actors["koordinator"]
    search = SlotSearchInput(consultation_type_id=world.types["joint_consultation"],
                             window_start=oslo(2026, 11, 30, 0), window_end=oslo(2026, 12, 5, 0), limit=3,
                             municipality_id=world.organisations["Lurøy kommune"])
    async with db.session() as session:
        slots = await services.slots.search(session, coordinator, search)
        assert {p.name for p in slots[0].participants} == {"Ingrid Hansen", "Ola Johansen", "Helserom Lurøy"}
        assert slots[0].start == oslo(2026, 11, 30, 8)
        with pytest.raises(ValidationFailed):
            await services.slots.search(session, coordinator, replace(search, municipality_id=None))


@pytest.fixture
async def feed_server() -> AsyncIterator[tuple[TestServer, dict[str, object]]]:
    state: dict[str, object] = {"status": 200, "body": BUSY_ICS}

    async def handler(_: web.Request) -> web.Response:
        return web.Response(status=int(state["status"]), body=state["body"], content_type="text/calendar")  # type: ignore[call-overload]

    app = web.Application()
    app.router.add_get("/cal.ics", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, state
    await server.close()


async def test_imported_busy_blocks_slots_and_survives_a_failed_fetch(
        db: Database, services: SchedulingServices, world: World, clock: FixedClock,
        feed_server: tuple[TestServer, dict[str, object]]) -> None:
    server, state = feed_server
    # the test's feed server is on loopback: allowed here as a trust's own calendar server would be
    services = replace(services, calendars=CalendarSourceService(
        clock, services.resources, FeedAddressPolicy.from_entries(["127.0.0.1"])))
    admin, rid = world.actors["admin"], world.resources["Ingrid Hansen"]
    async with db.session() as session:
        source = await services.calendars.add_feed_source(session, admin, rid, str(server.make_url("/cal.ics")))
    results = await services.calendars.refresh_feeds(db)
    assert results[0].error == "" and results[0].result is not None and results[0].result.intervals == 1
    search = SlotSearchInput(consultation_type_id=world.types["short_follow_up"],
                             window_start=oslo(2026, 12, 2, 0), window_end=oslo(2026, 12, 3, 0), limit=1)
    async with db.session() as session:
        assert (await services.slots.search(session, admin, search))[0].start == oslo(2026, 12, 2, 12)

    state["status"] = 500
    results = await services.calendars.refresh_feeds(db, older_than=timedelta(0))
    assert results[0].error_code == "calendar.fetch_unreachable"
    state["status"], state["body"] = 200, b"x" * (3 * 1024 * 1024)
    results = await services.calendars.refresh_feeds(db, older_than=timedelta(0))
    assert results[0].error_code == "calendar.fetch_too_large"
    async with db.session() as session:
        (view,) = await services.calendars.list_sources(session, rid)
        assert view.id == source.id and view.last_error.startswith("calendar.fetch_too_large")
        assert view.last_good_import_at is not None
        # the last good import still blocks the morning
        assert (await services.slots.search(session, admin, search))[0].start == oslo(2026, 12, 2, 12)

    async with db.session() as session:
        with pytest.raises(ValidationFailed):
            await services.calendars.import_ics(session, admin, rid, b"not a calendar")
