"""Invites through the outbox to a real SMTP server (aiosmtpd), read back with vobject; retries; SMS."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
import vobject
from aiosmtpd.controller import Controller
from sqlalchemy import select

from scheduling.models import OutboxChannel, OutboxMessage, OutboxStatus
from scheduling.outbox import OutboxDispatcher, SmtpEmailSender, SmtpSettings
from scheduling.services.factory import SchedulingServices
from scheduling.services.views import BookRequest, RescheduleRequest
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.integration.scheduling.conftest import World, oslo

SPECIALIST_MAIL = "ingrid.hansen@example.no"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def invites_for(self, address: str) -> list[Any]:
        found = []
        for rcpts, msg in self.messages:
            if address in rcpts:
                for part in msg.walk():
                    if part.get_content_type() == "text/calendar":
                        found.append(vobject.readOne(part.get_payload(decode=True).decode("utf-8")))
        return found


@pytest.fixture
def smtp_port() -> int:
    return free_port()


def start_smtp(port: int) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[Inbox]:
    controller, inbox = start_smtp(smtp_port)
    yield inbox
    controller.stop()


def dispatcher(db: Database, clock: FixedClock, port: int) -> OutboxDispatcher:
    sender = SmtpEmailSender(SmtpSettings(host="127.0.0.1", port=port, sender="samkonsult@example.no"), clock)
    return OutboxDispatcher(db, clock, email=sender, sms=None, max_attempts=3)


def joint(world: World) -> BookRequest:
    return BookRequest(
        consultation_type_id=world.types["joint_consultation"], start=oslo(2026, 11, 26, 10),
        chosen=(("specialist", world.resources["Ingrid Hansen"]), ("nurse", world.resources["Kari Nilsen"]),
                ("room", world.resources["Helserom Rødøy"])),
        patient_public_id=world.patients["Astrid"])


async def test_reschedule_then_cancel_is_one_event_updated_then_cancelled(
        db: Database, services: SchedulingServices, world: World, clock: FixedClock, smtp: Inbox,
        smtp_port: int) -> None:
    coordinator = world.actors["koordinator"]
    async with db.session(write_lock=True) as session:
        view = await services.bookings.book(session, coordinator, joint(world))
    async with db.session(write_lock=True) as session:
        await services.bookings.reschedule(session, coordinator, view.public_id,
                                           RescheduleRequest(start=oslo(2026, 11, 27, 13)))
    async with db.session() as session:
        await services.bookings.cancel(session, coordinator, view.public_id, "Pasienten er innlagt")
    report = await dispatcher(db, clock, smtp_port).dispatch_due()
    assert report.sent == 9  # three emails (specialist, nurse, room) for each of three versions

    cals = smtp.invites_for(SPECIALIST_MAIL)
    assert [c.method.value for c in cals] == ["REQUEST", "REQUEST", "CANCEL"]
    events = [c.vevent for c in cals]
    assert {e.uid.value for e in events} == {view.ical_uid}
    assert [int(e.sequence.value) for e in events] == [0, 1, 2]
    assert events[0].dtstart.value == oslo(2026, 11, 26, 10)
    assert events[1].dtstart.value == oslo(2026, 11, 27, 13)
    assert events[2].status.value == "CANCELLED"
    assert events[0].url.value == f"https://samkonsult.example.no/consultations/{view.public_id}"
    attendees = {a.value.lower() for a in events[0].attendee_list}
    assert {"mailto:ingrid.hansen@example.no", "mailto:kari.nilsen@example.no",
            "mailto:helserom.rodoy@example.no"} <= attendees
    assert events[0].organizer.value.lower() == "mailto:koordinator@example.no"
    for _, msg in smtp.messages:  # no health details and no patient name travel by email
        text = msg.as_string()
        assert "innlagt" not in text and "Astrid" not in text and "Olsen" not in text


async def test_sms_without_gateway_stays_visible_and_is_never_sent(
        db: Database, services: SchedulingServices, world: World, clock: FixedClock, smtp: Inbox,
        smtp_port: int) -> None:
    async with db.session(write_lock=True) as session:
        await services.bookings.book(session, world.actors["koordinator"], joint(world))
    sender = dispatcher(db, clock, smtp_port)
    first = await sender.dispatch_due()
    clock.advance(timedelta(hours=2))
    await sender.dispatch_due()
    assert first.no_gateway == 1
    async with db.session() as session:
        sms = await services.outbox.list_messages(session, status=OutboxStatus.NO_GATEWAY)
        assert [m.channel for m in sms] == [OutboxChannel.SMS]
        assert sms[0].recipient == "+47 41000001" and sms[0].sent_at is None
        sent = await services.outbox.list_messages(session, status=OutboxStatus.SENT)
    assert all(m.channel is OutboxChannel.EMAIL for m in sent) and len(sent) == 3


async def test_outbox_retries_while_smtp_is_down_and_loses_nothing(
        db: Database, services: SchedulingServices, world: World, clock: FixedClock) -> None:
    port = free_port()  # nothing listens here yet
    async with db.session(write_lock=True) as session:
        await services.bookings.book(session, world.actors["koordinator"], joint(world))
    sender = dispatcher(db, clock, port)
    down = await sender.dispatch_due()
    assert down.sent == 0 and down.retried == 3
    async with db.session() as session:
        rows = (await session.execute(select(OutboxMessage).where(
            OutboxMessage.channel == OutboxChannel.EMAIL))).scalars().all()
    assert all(r.status is OutboxStatus.PENDING and r.attempts == 1 and r.last_error for r in rows)
    assert (await sender.dispatch_due()).retried == 0  # backing off: not due yet
    clock.advance(timedelta(minutes=10))
    controller, inbox = start_smtp(port)
    try:
        up = await sender.dispatch_due()
    finally:
        controller.stop()
    assert up.sent == 3
    assert sorted(r for rcpts, _ in inbox.messages for r in rcpts) == [
        "helserom.rodoy@example.no", "ingrid.hansen@example.no", "kari.nilsen@example.no"]


async def test_reminders_are_queued_once_before_the_consultation(
        db: Database, services: SchedulingServices, world: World, clock: FixedClock) -> None:
    async with db.session(write_lock=True) as session:
        view = await services.bookings.book(session, world.actors["koordinator"], joint(world))
    async with db.session() as session:
        # only the demo bookings (one now, one tomorrow) are due; ours is three days ahead
        assert await services.notifier.queue_due_reminders(session) == 2
    clock.current = view.start - timedelta(hours=20)
    async with db.session() as session:
        assert await services.notifier.queue_due_reminders(session) == 1
    async with db.session() as session:
        assert await services.notifier.queue_due_reminders(session) == 0
        reminders = [m for m in await services.outbox.list_messages(session) if m.purpose == "reminder"]
    assert len(reminders) == 12  # per booking: three emails and one SMS
