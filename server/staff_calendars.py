"""The calendars' side of deactivating a staff member: their person resource stops being bookable.

Implements ``server.people.staff_admin.StaffCalendars`` for the people domain, which cannot import
scheduling. Bookings already made keep the resource and the name."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Resource


class SqlStaffCalendars:
    async def withdraw(self, session: AsyncSession, user_id: int) -> None:
        await session.execute(update(Resource).where(Resource.user_id == user_id).values(active=False))
