"""The notes' view of bookings: scheduling's tables read for the notes, which never import scheduling."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notes.consultations import Consultation
from scheduling.models import Booking
from scheduling.participation import user_takes_part


def _consultation(booking: Booking) -> Consultation:
    return Consultation(id=booking.id, public_id=booking.public_id, patient_id=booking.patient_id,
                        start=booking.start)


class SqlConsultationDirectory:
    """Implements :class:`notes.consultations.ConsultationDirectory` on the booking tables."""

    async def by_public_id(self, session: AsyncSession, public_id: str) -> Consultation | None:
        booking = (await session.execute(select(Booking).where(Booking.public_id == public_id))).scalar_one_or_none()
        return None if booking is None else _consultation(booking)

    async def by_id(self, session: AsyncSession, consultation_id: int) -> Consultation | None:
        booking = await session.get(Booking, consultation_id)
        return None if booking is None else _consultation(booking)

    async def takes_part(self, session: AsyncSession, consultation_id: int, user_id: int) -> bool:
        return await user_takes_part(session, consultation_id, user_id)
