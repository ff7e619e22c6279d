"""Who takes part in a booking: the one rule, used by bookings, the live rooms and the notes.

A staff user takes part when a resource that is that person holds an *active* reservation on the
booking. A reservation released by a reschedule (another specialist took over) does not count.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Reservation, Resource


def bookings_of_user(user_id: int) -> Select[int]:
    """The ids of the bookings this staff user takes part in, as a subquery to filter bookings with."""
    return (
        select(Reservation.booking_id)
        .join(Resource, Resource.id == Reservation.resource_id)
        .where(Resource.user_id == user_id, Reservation.active.is_(True))
    )


async def user_takes_part(session: AsyncSession, booking_id: int, user_id: int) -> bool:
    """Whether the staff user takes part in the booking."""
    query = bookings_of_user(user_id).where(Reservation.booking_id == booking_id).limit(1)
    return (await session.execute(query)).first() is not None
