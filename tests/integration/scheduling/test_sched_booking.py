"""Booking on a real database: no double booking under 100 concurrent requests, idempotency, audit."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from scheduling.models import Booking, BookingStatus, Reservation
from scheduling.services.factory import SchedulingServices
from scheduling.services.views import BookRequest, RescheduleRequest
from server.platform.audit_models import AuditEntry
from server.platform.db import Database
from server.platform.errors import Conflict, NotFound
from tests.integration.scheduling.conftest import World, oslo


def follow_up(world: World, start_minute: int, patient: str = "Astrid") -> BookRequest:
    # Wednesday 25 November 2026, 10:00 + n minutes local: every such 15-minute slot overlaps every other
    return BookRequest(
        consultation_type_id=world.types["short_follow_up"], start=oslo(2026, 11, 25, 10, start_minute),
        chosen=(("specialist", world.resources["Ingrid Hansen"]),), patient_public_id=world.patients[patient])


async def test_hundred_concurrent_bookings_one_wins(db: Database, services: SchedulingServices,
                                                    world: World) -> None:
    coordinator = world.actors["koordinator"]

    async def attempt(i: int) -> str:
        try:
            async with db.session(write_lock=True) as session:
                await services.bookings.book(session, coordinator, follow_up(world, i % 10))
            return "ok"
        except Conflict as exc:
            return exc.code

    results = await asyncio.gather(*(attempt(i) for i in range(100)))
    assert results.count("ok") == 1
    assert results.count("slot_taken") == 99

    async with db.session() as session:
        rows = (await session.execute(
            select(Reservation.blocked_start, Reservation.blocked_end)
            .where(Reservation.resource_id == world.resources["Ingrid Hansen"], Reservation.active.is_(True))
            .order_by(Reservation.blocked_start))).all()
    for (_, end), (start, _) in itertools.pairwise(rows):
        assert end <= start, "overlapping active reservations"


async def test_database_refuses_overlap_on_postgres(db: Database, services: SchedulingServices, world: World,
                                                    backend: str) -> None:
    if backend != "postgres":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")
    async with db.session(write_lock=True) as session:
        view = await services.bookings.book(session, world.actors["koordinator"], follow_up(world, 0))
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            booking_id = (await session.execute(select(Booking.id).where(
                Booking.public_id == view.public_id))).scalar_one()
            await session.execute(insert(Reservation).values(
                booking_id=booking_id, resource_id=world.resources["Ingrid Hansen"], requirement_key="x",
                position=9, blocked_start=view.start + timedelta(minutes=5),
                blocked_end=view.end + timedelta(minutes=5), active=True))


async def test_booking_needs_the_write_lock(db: Database, services: SchedulingServices, world: World,
                                            backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL relies on its exclusion constraint")
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            await services.bookings.book(session, world.actors["koordinator"], follow_up(world, 0))


async def test_idempotent_replay_gives_one_row_and_the_same_answer(db: Database, services: SchedulingServices,
                                                                   world: World) -> None:
    coordinator = world.actors["koordinator"]
    request = follow_up(world, 0)
    async with db.session() as session:
        before = (await session.execute(select(func.count(Booking.id)))).scalar_one()
    async with db.session(write_lock=True) as session:
        first = await services.bookings.book(session, coordinator, request, idempotency_key="key-1")
    async with db.session(write_lock=True) as session:
        again = await services.bookings.book(session, coordinator, request, idempotency_key="key-1")
    assert again.replayed and not first.replayed
    assert again.public_id == first.public_id and again.start == first.start
    async with db.session() as session:
        count = (await session.execute(select(func.count(Booking.id)))).scalar_one()
    assert count == before + 1
    other = follow_up(world, 0, patient="Marit")
    with pytest.raises(Conflict) as err:
        async with db.session(write_lock=True) as session:
            await services.bookings.book(session, coordinator, other, idempotency_key="key-1")
    assert err.value.code == "idempotency_key_reused"


async def test_every_booking_read_and_write_is_audited(db: Database, services: SchedulingServices,
                                                       world: World) -> None:
    coordinator = world.actors["koordinator"]
    specialist = world.actors["lege"]
    async with db.session(write_lock=True) as session:
        view = await services.bookings.book(session, coordinator, follow_up(world, 0))
    async with db.session() as session:
        await services.bookings.get(session, coordinator, view.public_id, "planning")
    async with db.session() as session:
        day = await services.bookings.day_list(session, specialist, oslo(2026, 11, 25, 12).date())
        assert [b.public_id for b in day] == [view.public_id]
        assert day[0].participants[0].name == "Ingrid Hansen"
    async with db.session(write_lock=True) as session:
        await services.bookings.reschedule(session, coordinator, view.public_id,
                                           RescheduleRequest(start=oslo(2026, 11, 26, 11)))
    async with db.session() as session:
        await services.bookings.set_status(session, specialist, view.public_id, BookingStatus.ARRIVED)
    async with db.session() as session:
        await services.bookings.cancel(session, coordinator, view.public_id, "Pasienten er innlagt")
    async with db.session() as session:
        rows = (await session.execute(select(AuditEntry.action, AuditEntry.patient_id, AuditEntry.actor_id)
                                      .where(AuditEntry.object_type == "booking",
                                             AuditEntry.object_id == view.public_id)
                                      .order_by(AuditEntry.seq))).all()
    assert [r.action for r in rows] == ["create", "read", "list", "reschedule", "status:arrived", "cancel"]
    assert {r.patient_id for r in rows} == {view.patient_id}
    assert rows[2].actor_id == specialist.id


async def test_staff_without_relation_cannot_see_a_booking(db: Database, services: SchedulingServices,
                                                           world: World) -> None:
    async with db.session(write_lock=True) as session:
        view = await services.bookings.book(session, world.actors["koordinator"], follow_up(world, 0))
    # Astrid lives in Rødøy; Lurøy's nurse has no care relation and does not take part
    with pytest.raises(NotFound):
        async with db.session() as session:
            await services.bookings.get(session, world.actors["sykepleier.luroy"], view.public_id)


async def test_reschedule_keeps_uid_and_raises_sequence(db: Database, services: SchedulingServices,
                                                        world: World) -> None:
    coordinator = world.actors["koordinator"]
    async with db.session(write_lock=True) as session:
        view = await services.bookings.book(session, coordinator, follow_up(world, 0))
    async with db.session(write_lock=True) as session:
        # overlapping its own old time is fine: a booking does not collide with itself
        moved = await services.bookings.reschedule(session, coordinator, view.public_id,
                                                   RescheduleRequest(start=view.start + timedelta(minutes=5)))
    assert moved.ical_uid == view.ical_uid and moved.sequence == 1
    assert moved.start == view.start + timedelta(minutes=5)
    async with db.session(write_lock=True) as session:
        other = await services.bookings.book(session, coordinator, replace(
            follow_up(world, 0, patient="Marit"), start=oslo(2026, 11, 25, 13)))
    with pytest.raises(Conflict) as err:
        async with db.session(write_lock=True) as session:
            await services.bookings.reschedule(session, coordinator, view.public_id,
                                               RescheduleRequest(start=other.start))
    assert err.value.code == "slot_taken"
