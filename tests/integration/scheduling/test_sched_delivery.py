"""Where a booking's invitations stand, from the outbox rows: queued, sent, failed, or no gateway."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduling.models import BookingStatus, OutboxChannel
from scheduling.outbox import DeliverySummary, OutboxDispatcher, OutgoingMessage
from scheduling.services.factory import SchedulingServices
from scheduling.services.notifications import NotificationSettings
from scheduling.services.views import BookRequest, RescheduleRequest
from server.platform.audit import AuditLog
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.errors import ValidationFailed
from tests.integration.scheduling.conftest import PUBLIC_URL, World, oslo


class Mailbox:
    """A sender that accepts every message, or refuses every one."""

    def __init__(self, *, working: bool = True) -> None:
        self.working = working
        self.sent: list[str] = []

    async def send(self, message: OutgoingMessage) -> None:
        if not self.working:
            raise ConnectionRefusedError("mail server down")
        self.sent.append(message.recipient)


def with_email(clock: FixedClock) -> SchedulingServices:
    return SchedulingServices.create(clock, AuditLog(clock), NotificationSettings(public_url=PUBLIC_URL),
                                     gateways=frozenset({OutboxChannel.EMAIL}))


def joint(world: World) -> BookRequest:
    # three emails (specialist, nurse, room) and one SMS to the patient
    return BookRequest(
        consultation_type_id=world.types["joint_consultation"], start=oslo(2026, 11, 26, 10),
        chosen=(("specialist", world.resources["Ingrid Hansen"]), ("nurse", world.resources["Kari Nilsen"]),
                ("room", world.resources["Helserom Rødøy"])),
        patient_public_id=world.patients["Astrid"])


async def _delivery(db: Database, services: SchedulingServices, world: World, public_id: str) -> DeliverySummary:
    async with db.session() as session:
        return await services.bookings.invitations(session, world.actors["koordinator"], public_id)


async def test_without_any_gateway_nothing_is_reported_as_on_its_way(
        db: Database, services: SchedulingServices, world: World) -> None:
    async with db.session(write_lock=True) as session:
        view = await services.bookings.book(session, world.actors["koordinator"], joint(world))
    assert await _delivery(db, services, world, view.public_id) == DeliverySummary(
        no_email_gateway=3, no_sms_gateway=1)


async def test_queued_then_sent_then_queued_again_after_a_move(
        db: Database, world: World, clock: FixedClock) -> None:
    services = with_email(clock)
    coordinator = world.actors["koordinator"]
    async with db.session(write_lock=True) as session:
        view = await services.bookings.book(session, coordinator, joint(world))
    assert await _delivery(db, services, world, view.public_id) == DeliverySummary(queued=3, no_sms_gateway=1)

    mailbox = Mailbox()
    await OutboxDispatcher(db, clock, email=mailbox, sms=None).dispatch_due()
    assert len(mailbox.sent) == 3
    assert await _delivery(db, services, world, view.public_id) == DeliverySummary(sent=3, no_sms_gateway=1)

    # the updated invitations are what counts now: each recipient's newest message
    async with db.session(write_lock=True) as session:
        await services.bookings.reschedule(session, coordinator, view.public_id,
                                           RescheduleRequest(start=oslo(2026, 11, 27, 13)))
    assert await _delivery(db, services, world, view.public_id) == DeliverySummary(queued=3, no_sms_gateway=1)


async def test_given_up_messages_are_reported_as_failed(db: Database, world: World, clock: FixedClock) -> None:
    services = with_email(clock)
    async with db.session(write_lock=True) as session:
        view = await services.bookings.book(session, world.actors["koordinator"], joint(world))
    dispatcher = OutboxDispatcher(db, clock, email=Mailbox(working=False), sms=None, max_attempts=2)
    await dispatcher.dispatch_due()
    assert (await _delivery(db, services, world, view.public_id)).queued == 3  # retried later
    clock.advance(timedelta(hours=2))
    await dispatcher.dispatch_due()
    assert await _delivery(db, services, world, view.public_id) == DeliverySummary(failed=3, no_sms_gateway=1)
    # why, as codes the outbox page words in the reader's language (the exception's text is for the log)
    async with db.session() as session:
        rows = await services.outbox.list_messages(session)
    assert {(m.channel, m.failure) for m in rows} == {(OutboxChannel.EMAIL, "unreachable"),
                                                       (OutboxChannel.SMS, "no_sms_gateway")}
    assert all("mail server down" in m.last_error for m in rows if m.channel is OutboxChannel.EMAIL)


@pytest.mark.parametrize(("reason", "code"), [("   ", "cancel_reason_required"),
                                               ("x" * 501, "cancel_reason_too_long")])
async def test_cancel_refuses_an_empty_or_too_long_reason_and_changes_nothing(
        db: Database, services: SchedulingServices, world: World, reason: str, code: str) -> None:
    coordinator = world.actors["koordinator"]
    async with db.session(write_lock=True) as session:
        view = await services.bookings.book(session, coordinator, joint(world))
    with pytest.raises(ValidationFailed) as refused:
        async with db.session() as session:
            await services.bookings.cancel(session, coordinator, view.public_id, reason)
    assert refused.value.fields == {"reason": code}
    async with db.session() as session:
        assert (await services.bookings.get(session, coordinator, view.public_id)).status is BookingStatus.BOOKED


async def test_a_reason_of_exactly_the_limit_is_kept_whole(
        db: Database, services: SchedulingServices, world: World) -> None:
    coordinator = world.actors["koordinator"]
    async with db.session(write_lock=True) as session:
        view = await services.bookings.book(session, coordinator, joint(world))
    reason = "Pasienten er innlagt. " + "ø" * 478
    assert len(reason) == 500
    async with db.session() as session:
        cancelled = await services.bookings.cancel(session, coordinator, view.public_id, f"  {reason}\n")
    assert cancelled.cancel_reason == reason
