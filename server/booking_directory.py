"""``BookingDirectory`` on scheduling's tables: a booking's time, staff, patient and health room.

Read-only, and the only module of ``rooms`` that knows scheduling's models: when they change, this
adapter changes and the live side does not.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.registry import BookingRoom, ContactPhone
from rooms.roster import ParticipantRole
from scheduling.booking_rules import JOINABLE_STATUSES, joinable
from scheduling.models import Booking, ConsultationType, Resource, ResourceKind
from scheduling.participation import bookings_of_user
from server.people.models import Patient, User
from server.platform.db import Database
from server.platform.roles import Role

# Staff account roles that take part in a consultation, and the part each plays in it.
_PARTS = {
    Role.SPECIALIST: ParticipantRole.SPECIALIST,
    Role.NURSE: ParticipantRole.NURSE,
    Role.COORDINATOR: ParticipantRole.COORDINATOR,
}


class SqlBookingDirectory:
    """Reads bookings for the live side; every call is its own short unit of work."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def room_for(self, booking_id: str) -> BookingRoom | None:
        async with self._db.session() as session:
            booking = (
                await session.execute(select(Booking).where(Booking.public_id == booking_id))
            ).scalar_one_or_none()
            if booking is None or not joinable(booking.status):
                return None
            return await self._describe(session, booking)

    async def rooms_for_staff(self, user_id: int, start: datetime, end: datetime) -> list[BookingRoom]:
        async with self._db.session() as session:
            bookings = (
                await session.execute(
                    select(Booking)
                    .where(
                        Booking.id.in_(bookings_of_user(user_id)),
                        Booking.start >= start,
                        Booking.start < end,
                        Booking.status.in_(JOINABLE_STATUSES),
                    )
                    .order_by(Booking.start)
                )
            ).scalars().all()
            return [await self._describe(session, b) for b in bookings]

    async def _describe(self, session: AsyncSession, booking: Booking) -> BookingRoom:
        resource_ids = [r.resource_id for r in booking.reservations if r.active]
        resources = (
            (await session.execute(select(Resource).where(Resource.id.in_(resource_ids)))).scalars().all()
            if resource_ids
            else []
        )
        user_ids = [r.user_id for r in resources if r.kind is ResourceKind.PERSON and r.user_id is not None]
        users = (
            (await session.execute(select(User).where(User.id.in_(user_ids)))).scalars().all() if user_ids else []
        )
        staff: dict[str, ParticipantRole] = {}
        phones: list[ContactPhone] = []
        nurse_name = ""
        for user in sorted(users, key=lambda u: u.id):
            part = _PARTS.get(user.role)
            if part is None or not user.is_active:
                continue
            staff[f"user:{user.id}"] = part
            if part is ParticipantRole.NURSE and not nurse_name:
                nurse_name = user.display_name
            if user.phone:
                phones.append(ContactPhone(user.display_name, part.value, user.phone))
        health_room = next((r.name for r in resources if r.kind is ResourceKind.HEALTH_ROOM), "")
        patient = await session.get(Patient, booking.patient_id)
        kind = await session.get(ConsultationType, booking.consultation_type_id)
        return BookingRoom(
            booking_id=booking.public_id,
            starts_at=booking.start,
            ends_at=booking.end,
            staff=staff,
            patient_id=booking.patient_id,
            patient_name=patient.full_name if patient is not None else "",
            health_room=health_room,
            nurse_name=nurse_name,
            title=kind.name if kind is not None else "",
            title_en=kind.name_en if kind is not None else "",
            phones=tuple(phones),
        )
