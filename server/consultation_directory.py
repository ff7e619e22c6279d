"""The notes' view of bookings: scheduling's tables read for the notes, which never import scheduling."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notes.access import profession_of
from notes.consultations import Consultation
from notes.model import ExportConsultation, ExportOrganisation, ExportParticipant, ExportPlace, PlaceKind
from scheduling.models import Booking, ConsultationType, Reservation, Resource, ResourceKind
from scheduling.participation import user_takes_part
from server.people.models import Organisation, User
from server.people.staff_actor import staff_actor


def _consultation(booking: Booking) -> Consultation:
    return Consultation(id=booking.id, public_id=booking.public_id, patient_id=booking.patient_id,
                        start=booking.start)


def _organisation(org: Organisation | None) -> ExportOrganisation | None:
    return None if org is None else ExportOrganisation(org.name, org.kind.value, org.code or "")


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

    async def details(self, session: AsyncSession, consultation_id: int) -> ExportConsultation | None:
        booking = await session.get(Booking, consultation_id)
        if booking is None:
            return None
        rows = (await session.execute(
            select(Resource).join(Reservation, Reservation.resource_id == Resource.id)
            .where(Reservation.booking_id == booking.id, Reservation.active.is_(True))
            .order_by(Reservation.position, Reservation.id))).scalars().all()
        participants: list[ExportParticipant] = []
        place = ExportPlace(PlaceKind.HOME if booking.patient_at_home else PlaceKind.UNKNOWN)
        for resource in rows:
            if resource.kind is ResourceKind.PERSON and resource.user_id is not None:
                user = await session.get(User, resource.user_id)
                if user is None:
                    continue
                participants.append(ExportParticipant(
                    person_id=staff_actor(user).id, name=user.display_name,
                    profession=profession_of(user.role.value, user.profession),
                    organisation=_organisation(user.organisation),
                    department=user.department.name if user.department is not None else ""))
            elif resource.kind is ResourceKind.HEALTH_ROOM and not booking.patient_at_home:
                municipality_id = resource.municipality_id or resource.organisation_id
                place = ExportPlace(PlaceKind.HEALTH_ROOM, resource.name, resource.address,
                                    _organisation(await session.get(Organisation, municipality_id)))
        ctype = await session.get(ConsultationType, booking.consultation_type_id)
        return ExportConsultation(
            public_id=booking.public_id, start=booking.start, end=booking.end, status=booking.status.value,
            place=place, participants=tuple(participants), consultation_type=ctype.name if ctype else "")
