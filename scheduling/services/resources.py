"""Resources (people, health rooms, equipment), their hours and exceptions, and consultation types.

Busy times imported from the resources' own calendars are in :mod:`.calendar_sources`.

None of this is health data, so nothing here is audited; changing configuration needs an
administrator or a coordinator.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.availability import Availability, DateException, ExceptionKind, TimeRange, WeeklyHours, zone
from scheduling.errors import InvalidAvailability
from scheduling.models import (
    AvailabilityException,
    ConsultationType,
    Equipment,
    ExceptionKindDb,
    Resource,
    ResourceKind,
    RoomEquipment,
    WeeklyHoursRow,
)
from scheduling.services.common import ADMIN_ROLES, require_roles
from scheduling.services.views import (
    ConsultationTypeView,
    ExceptionInput,
    ExceptionView,
    HoursInput,
    RequirementInput,
    ResourceInput,
    ResourceView,
)
from server.people.models import Department, Organisation, User
from server.platform.actors import Actor
from server.platform.clock import Clock
from server.platform.errors import NotFound, ValidationFailed
from server.platform.roles import OrganisationKind

log = logging.getLogger(__name__)



def resource_view(r: Resource) -> ResourceView:
    return ResourceView(
        id=r.id, kind=r.kind, name=r.name, organisation_id=r.organisation_id, user_id=r.user_id,
        department_id=r.department_id, profession=r.profession, address=r.address, latitude=r.latitude,
        longitude=r.longitude, municipality_id=r.municipality_id, email=r.email, timezone=r.timezone,
        equipment_codes=tuple(e.code for e in r.equipment), active=r.active,
        located_in_id=r.located_in_id,
    )


def type_view(t: ConsultationType) -> ConsultationTypeView:
    return ConsultationTypeView(
        id=t.id, code=t.code, name=t.name, name_en=t.name_en,
        duration=timedelta(minutes=t.duration_minutes),
        buffer_before=timedelta(minutes=t.buffer_before_minutes),
        buffer_after=timedelta(minutes=t.buffer_after_minutes),
        min_notice=timedelta(minutes=t.min_notice_minutes),
        requirements=tuple(
            RequirementInput(key=r.key, kind=r.kind, resource_id=r.resource_id, department_id=r.department_id,
                             equipment_codes=split_codes(r.equipment_codes), profession=r.profession)
            for r in t.requirements
        ),
    )


def split_codes(text: str) -> tuple[str, ...]:
    return tuple(c for c in (p.strip() for p in text.split(",")) if c)


class ResourceService:
    """Creates and configures resources and consultation types."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    # -------------------------------------------------------------------------------- resources

    async def ensure_equipment(self, session: AsyncSession, code: str, name: str) -> int:
        """The id of the equipment kind ``code``, created with ``name`` when new."""
        row = (await session.execute(select(Equipment).where(Equipment.code == code))).scalar_one_or_none()
        if row is None:
            row = Equipment(code=code, name=name)
            session.add(row)
            await session.flush()
        return row.id

    async def list_equipment(self, session: AsyncSession) -> list[tuple[str, str]]:
        """Every equipment kind as ``(code, name)``."""
        rows = (await session.execute(select(Equipment).order_by(Equipment.code))).scalars().all()
        return [(e.code, e.name) for e in rows]

    async def create_resource(self, session: AsyncSession, actor: Actor, data: ResourceInput) -> ResourceView:
        """Create a resource after checking what its kind requires."""
        require_roles(actor, *ADMIN_ROLES, what="configure resources")
        fields: dict[str, str] = {}
        if not data.name.strip():
            fields["name"] = "required"
        if await session.get(Organisation, data.organisation_id) is None:
            fields["organisation_id"] = "unknown_organisation"
        if data.kind is ResourceKind.PERSON:
            user = await session.get(User, data.user_id) if data.user_id is not None else None
            if user is None:
                fields["user_id"] = "required"
            elif (await session.execute(select(Resource.id).where(Resource.user_id == user.id))).first():
                fields["user_id"] = "resource_exists"
        if data.kind is ResourceKind.HEALTH_ROOM:
            muni = await session.get(Organisation, data.municipality_id) if data.municipality_id else None
            if muni is None or muni.kind is not OrganisationKind.MUNICIPALITY:
                fields["municipality_id"] = "unknown_municipality"
        if data.department_id is not None and await session.get(Department, data.department_id) is None:
            fields["department_id"] = "unknown_department"
        try:
            zone(data.timezone)
        except InvalidAvailability as exc:
            fields["timezone"] = exc.code
        equipment: list[Equipment] = []
        for code in data.equipment_codes:
            e = (await session.execute(select(Equipment).where(Equipment.code == code))).scalar_one_or_none()
            if e is None:
                fields["equipment_codes"] = "unknown_equipment"
            else:
                equipment.append(e)
        if fields:
            raise ValidationFailed("the resource could not be created", fields)
        resource = Resource(
            kind=data.kind, name=data.name.strip(), organisation_id=data.organisation_id, user_id=data.user_id,
            department_id=data.department_id, profession=data.profession.strip(), address=data.address.strip(),
            latitude=data.latitude, longitude=data.longitude, municipality_id=data.municipality_id,
            email=data.email.strip(), timezone=data.timezone,
            closed_on_public_holidays=data.closed_on_public_holidays, active=True, created_at=self._clock.now(),
        )
        session.add(resource)
        await session.flush()
        for e in equipment:
            session.add(RoomEquipment(resource_id=resource.id, equipment_id=e.id))
        await session.flush()
        await session.refresh(resource, ["equipment"])
        return resource_view(resource)

    async def get_resource(self, session: AsyncSession, resource_id: int) -> ResourceView:
        return resource_view(await self._resource(session, resource_id))

    async def resource_for_user(self, session: AsyncSession, user_id: int) -> ResourceView | None:
        """The person resource of a staff user, if they have one."""
        row = (await session.execute(select(Resource).where(Resource.user_id == user_id))).scalar_one_or_none()
        return None if row is None else resource_view(row)

    async def resource_id_for_user(self, session: AsyncSession, user_id: int) -> int | None:
        """The id of a staff user's person resource, if they have one (one light query, for pages that
        only need to know which calendar is theirs)."""
        return (await session.execute(select(Resource.id).where(Resource.user_id == user_id))).scalar_one_or_none()

    async def list_resources(self, session: AsyncSession, *, kind: ResourceKind | None = None,
                             organisation_id: int | None = None) -> list[ResourceView]:
        """Active resources, by kind and name."""
        stmt = select(Resource).where(Resource.active.is_(True))
        if kind is not None:
            stmt = stmt.where(Resource.kind == kind)
        if organisation_id is not None:
            stmt = stmt.where(Resource.organisation_id == organisation_id)
        rows = (await session.execute(stmt.order_by(Resource.kind, Resource.name))).scalars().all()
        return [resource_view(r) for r in rows]

    async def choices(self, session: AsyncSession, kind: ResourceKind) -> list[tuple[int, str]]:
        """Active resources of ``kind`` as (id, name), by name: for a chooser, without what a full view
        loads (the equipment of every room is a query of its own)."""
        return (await self.choices_by_kind(session, kind))[kind]

    async def choices_by_kind(self, session: AsyncSession,
                              *kinds: ResourceKind) -> dict[ResourceKind, list[tuple[int, str]]]:
        """:meth:`choices` of several kinds in one query (a chooser of people and rooms)."""
        rows = await session.execute(select(Resource.kind, Resource.id, Resource.name)
                                     .where(Resource.active.is_(True), Resource.kind.in_(kinds))
                                     .order_by(Resource.name))
        found: dict[ResourceKind, list[tuple[int, str]]] = {kind: [] for kind in kinds}
        for kind, rid, name in rows.all():
            found[kind].append((rid, name))
        return found

    async def deactivate_resource(self, session: AsyncSession, actor: Actor, resource_id: int) -> None:
        """Take a resource out of slot search; its bookings stay."""
        require_roles(actor, *ADMIN_ROLES, what="configure resources")
        (await self._resource(session, resource_id)).active = False
        await session.flush()

    async def _resource(self, session: AsyncSession, resource_id: int) -> Resource:
        row = await session.get(Resource, resource_id)
        if row is None:
            raise NotFound("no such resource")
        return row

    # --------------------------------------------------------------------- hours and exceptions

    async def set_weekly_hours(self, session: AsyncSession, actor: Actor, resource_id: int,
                               hours: Sequence[HoursInput]) -> None:
        """Replace the weekly hours of a resource with ``hours``."""
        require_roles(actor, *ADMIN_ROLES, what="configure resources")
        await self._resource(session, resource_id)
        by_day: dict[int, list[TimeRange]] = {}
        try:
            for h in hours:
                by_day.setdefault(h.weekday, []).append(TimeRange(h.start, h.end))
            WeeklyHours.from_mapping(by_day)  # validates weekdays and ranges the domain's way
        except InvalidAvailability as exc:
            raise ValidationFailed.for_field("hours", exc) from exc
        await session.execute(delete(WeeklyHoursRow).where(WeeklyHoursRow.resource_id == resource_id))
        for h in hours:
            session.add(WeeklyHoursRow(resource_id=resource_id, weekday=h.weekday, start_time=h.start,
                                       end_time=h.end))
        await session.flush()

    async def weekly_hours(self, session: AsyncSession, resource_id: int) -> list[HoursInput]:
        rows = (await session.execute(
            select(WeeklyHoursRow).where(WeeklyHoursRow.resource_id == resource_id)
            .order_by(WeeklyHoursRow.weekday, WeeklyHoursRow.start_time))).scalars().all()
        return [HoursInput(r.weekday, r.start_time, r.end_time) for r in rows]

    async def add_exception(self, session: AsyncSession, actor: Actor, resource_id: int,
                            data: ExceptionInput) -> ExceptionView:
        """Add a dated exception (closed all day, closed in a range, or extra hours)."""
        require_roles(actor, *ADMIN_ROLES, what="configure resources")
        await self._resource(session, resource_id)
        if (data.start is None) != (data.end is None):
            raise ValidationFailed("give both start and end, or neither", {"end": "required"})
        try:
            rng = TimeRange(data.start, data.end) if data.start is not None and data.end is not None else None
            DateException(data.day, ExceptionKind(data.kind.value), rng)
        except InvalidAvailability as exc:
            raise ValidationFailed.for_field("start", exc) from exc
        row = AvailabilityException(resource_id=resource_id, day=data.day, kind=data.kind, start_time=data.start,
                                    end_time=data.end, note=data.note.strip()[:200])
        session.add(row)
        await session.flush()
        return ExceptionView(row.id, row.day, row.kind, row.start_time, row.end_time, row.note)

    async def list_exceptions(self, session: AsyncSession, resource_id: int) -> list[ExceptionView]:
        rows = (await session.execute(
            select(AvailabilityException).where(AvailabilityException.resource_id == resource_id)
            .order_by(AvailabilityException.day))).scalars().all()
        return [ExceptionView(r.id, r.day, r.kind, r.start_time, r.end_time, r.note) for r in rows]

    async def remove_exception(self, session: AsyncSession, actor: Actor, exception_id: int,
                               resource_id: int | None = None) -> None:
        """Remove a closed day or extra hours; with ``resource_id``, only one of that resource's."""
        require_roles(actor, *ADMIN_ROLES, what="configure resources")
        row = await session.get(AvailabilityException, exception_id)
        if row is None or (resource_id is not None and row.resource_id != resource_id):
            raise NotFound("no such exception")
        await session.delete(row)
        await session.flush()

    # ------------------------------------------------------------------------ consultation types

    async def list_consultation_types(self, session: AsyncSession) -> list[ConsultationTypeView]:
        rows = (await session.execute(select(ConsultationType).where(ConsultationType.active.is_(True))
                                      .order_by(ConsultationType.duration_minutes, ConsultationType.name))
                ).scalars().all()
        return [type_view(t) for t in rows]

    async def get_consultation_type(self, session: AsyncSession, type_id: int) -> ConsultationTypeView:
        row = await session.get(ConsultationType, type_id)
        if row is None:
            raise NotFound("no such consultation type")
        return type_view(row)

    # ------------------------------------------------------------------------ domain availability

    async def availability(self, session: AsyncSession, resource_id: int) -> Availability:
        """The pure-domain :class:`Availability` of a resource (hours, exceptions, holidays, zone)."""
        resource = await self._resource(session, resource_id)
        owner = HoursOwner(resource.id, resource.timezone, resource.closed_on_public_holidays)
        return (await load_availabilities(session, [owner]))[resource.id]


@dataclass(frozen=True)
class HoursOwner:
    """What availability needs of a resource besides its hours: read as three columns, since a whole
    resource brings its equipment with it (a query of its own) on every slot search and calendar."""

    id: int
    timezone: str
    closed_on_public_holidays: bool


HOURS_OWNER_COLUMNS = (Resource.id, Resource.timezone, Resource.closed_on_public_holidays)
"""The columns of :class:`HoursOwner`, in its order."""


async def load_availabilities(session: AsyncSession, resources: Sequence[HoursOwner]) -> dict[int, Availability]:
    """Availability per resource, from two queries whatever the number of resources."""
    ids = [r.id for r in resources]
    hours: dict[int, dict[int, list[TimeRange]]] = {i: {} for i in ids}
    for row in (await session.execute(select(WeeklyHoursRow).where(WeeklyHoursRow.resource_id.in_(ids)))).scalars():
        hours[row.resource_id].setdefault(row.weekday, []).append(TimeRange(row.start_time, row.end_time))
    exceptions: dict[int, list[DateException]] = {i: [] for i in ids}
    for exc in (await session.execute(
            select(AvailabilityException).where(AvailabilityException.resource_id.in_(ids)))).scalars():
        rng = None
        if exc.start_time is not None and exc.end_time is not None:
            rng = TimeRange(exc.start_time, exc.end_time)
        kind = ExceptionKind.CLOSED if exc.kind is ExceptionKindDb.CLOSED else ExceptionKind.EXTRA
        exceptions[exc.resource_id].append(DateException(exc.day, kind, rng))
    return {
        r.id: Availability(
            weekly=WeeklyHours.from_mapping({d: sorted(v, key=lambda t: t.start) for d, v in hours[r.id].items()}),
            exceptions=tuple(exceptions[r.id]),
            tz=r.timezone,
            closed_on_public_holidays=r.closed_on_public_holidays,
        )
        for r in resources
    }
