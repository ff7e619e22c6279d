"""Slot search over the database: requirements expanded to candidate resources, calendars loaded from
weekly hours, exceptions, imported busy times and existing reservations, then the pure
:func:`scheduling.slot_search.find_slots`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from scheduling.availability import expand
from scheduling.errors import InvalidInterval, InvalidSearch
from scheduling.intervals import Interval, IntervalSet
from scheduling.models import (
    CalendarSource,
    ConsultationType,
    Equipment,
    ImportedBusyInterval,
    RequirementKind,
    Reservation,
    Resource,
    ResourceKind,
    RoomEquipment,
    TypeRequirement,
)
from scheduling.services.common import CLINICAL_ROLES, require_roles
from scheduling.services.resources import HOURS_OWNER_COLUMNS, HoursOwner, load_availabilities, split_codes
from scheduling.services.views import CandidateSet, FreeBusyView, SlotParticipant, SlotSearchInput, SlotView
from scheduling.slot_search import Requirement, ResourceCalendar, SlotQuery, find_slots
from server.people.models import User
from server.platform.actors import Actor
from server.platform.clock import Clock
from server.platform.errors import NotFound, ValidationFailed
from server.platform.roles import Role

# busy rows are loaded this far around a window so that buffers of neighbours are always seen
_MARGIN = timedelta(days=1)
_MUNICIPAL = (RequirementKind.MUNICIPALITY_NURSE, RequirementKind.HEALTH_ROOM)


def _needs_municipality(req: TypeRequirement) -> bool:
    """A nurse, a room, or a profession named without a department: found in the patient's municipality."""
    return req.kind in _MUNICIPAL or (req.kind is RequirementKind.PROFESSION and req.department_id is None)
# Why a part has nobody to take it, said so the person setting up knows what to add or change.
_NOBODY = {
    RequirementKind.NAMED_PERSON: "no_named_resource",
    RequirementKind.DEPARTMENT_SPECIALIST: "no_specialist_in_department",
    RequirementKind.MUNICIPALITY_NURSE: "no_nurse_in_municipality",
    RequirementKind.HEALTH_ROOM: "no_room_with_equipment",
    RequirementKind.PATIENT_HOME: "no_candidates",
    RequirementKind.PROFESSION: "no_profession_bookable",
}


@dataclass(frozen=True)
class ResolvedRequirement:
    """A requirement of a consultation type with the resources that may fill it, preferred first."""

    key: str
    kind: RequirementKind
    candidates: tuple[int, ...]


class SlotService:
    """Finds times at which every required resource of a consultation type is free."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def consultation_type(self, session: AsyncSession, type_id: int) -> ConsultationType:
        row = await session.get(ConsultationType, type_id)
        if row is None or not row.active:
            raise NotFound("no such consultation type")
        return row

    async def resolve(self, session: AsyncSession, ctype: ConsultationType,
                      municipality_id: int | None) -> list[ResolvedRequirement]:
        """Expand each requirement into candidate resources (the patient-at-home one has none)."""
        if municipality_id is None and any(_needs_municipality(r) for r in ctype.requirements):
            raise ValidationFailed("choose the municipality the consultation takes place in",
                                   {"municipality_id": "required"})
        resolved: list[ResolvedRequirement] = []
        for req in ctype.requirements:
            if req.kind is RequirementKind.PATIENT_HOME:
                continue
            candidates = await self._candidates(session, req, municipality_id)
            if not candidates:
                raise ValidationFailed(f"no resource can take the part {req.key!r}", {req.key: _NOBODY[req.kind]})
            resolved.append(ResolvedRequirement(req.key, req.kind, candidates))
        return resolved

    async def candidates(self, session: AsyncSession, actor: Actor, type_id: int,
                         municipality_id: int | None) -> list[CandidateSet]:
        """Who could fill each requirement (for the slot finder's side-by-side view)."""
        require_roles(actor, *CLINICAL_ROLES, Role.ADMIN, what="search slots")
        ctype = await self.consultation_type(session, type_id)
        return [CandidateSet(r.key, r.kind, r.candidates) for r in await self.resolve(session, ctype, municipality_id)]

    async def _candidates(self, session: AsyncSession, req: TypeRequirement,
                          municipality_id: int | None) -> tuple[int, ...]:
        active_person = and_(Resource.active.is_(True), Resource.kind == ResourceKind.PERSON)
        match req.kind:
            case RequirementKind.NAMED_PERSON:
                stmt = select(Resource.id).where(Resource.id == req.resource_id, Resource.active.is_(True))
            case RequirementKind.DEPARTMENT_SPECIALIST:
                stmt = (select(Resource.id).join(User, User.id == Resource.user_id)
                        .where(active_person, User.is_active.is_(True), User.role == Role.SPECIALIST,
                               Resource.department_id == req.department_id))
            case RequirementKind.MUNICIPALITY_NURSE:
                stmt = (select(Resource.id).join(User, User.id == Resource.user_id)
                        .where(active_person, User.is_active.is_(True), User.role == Role.NURSE,
                               Resource.organisation_id == municipality_id))
            case RequirementKind.PROFESSION:
                where = (Resource.department_id == req.department_id if req.department_id is not None
                         else Resource.organisation_id == municipality_id)
                stmt = (select(Resource.id).join(User, User.id == Resource.user_id)
                        .where(active_person, User.is_active.is_(True), User.profession == req.profession, where))
            case RequirementKind.HEALTH_ROOM:
                stmt = select(Resource.id).where(Resource.active.is_(True),
                                                 Resource.kind == ResourceKind.HEALTH_ROOM,
                                                 Resource.municipality_id == municipality_id)
                codes = split_codes(req.equipment_codes)
                if codes:
                    # rooms that have every listed equipment kind, built in or as an active item kept there
                    item = aliased(Resource)
                    built_in = (select(RoomEquipment.resource_id.label("room_id"), Equipment.code.label("code"))
                                .join(Equipment, Equipment.id == RoomEquipment.equipment_id))
                    kept = (select(item.located_in_id.label("room_id"), Equipment.code.label("code"))
                            .join(RoomEquipment, RoomEquipment.resource_id == item.id)
                            .join(Equipment, Equipment.id == RoomEquipment.equipment_id)
                            .where(item.kind == ResourceKind.EQUIPMENT, item.active.is_(True),
                                   item.located_in_id.is_not(None)))
                    kinds = union_all(built_in, kept).subquery()
                    having = (select(kinds.c.room_id).where(kinds.c.code.in_(codes))
                              .group_by(kinds.c.room_id)
                              .having(func.count(func.distinct(kinds.c.code)) == len(set(codes))))
                    stmt = stmt.where(Resource.id.in_(having))
            case _:
                return ()
        return tuple((await session.execute(stmt.order_by(Resource.name, Resource.id))).scalars().all())

    async def load_calendars(self, session: AsyncSession, resource_ids: Iterable[int], window: Interval, *,
                             exclude_booking_id: int | None = None) -> dict[str, ResourceCalendar]:
        """Domain calendars keyed by ``str(resource_id)``: hours plus busy (reservations and imports).

        ``exclude_booking_id`` leaves out one booking's own reservations (a reschedule may overlap itself).
        """
        return (await self._calendars_and_names(session, resource_ids, window,
                                                exclude_booking_id=exclude_booking_id))[0]

    async def _calendars_and_names(self, session: AsyncSession, resource_ids: Iterable[int], window: Interval, *,
                                   exclude_booking_id: int | None = None,
                                   ) -> tuple[dict[str, ResourceCalendar], dict[int, str]]:
        """:meth:`load_calendars`, and the resources' names read with them."""
        ids = sorted(set(resource_ids))
        # Columns, not resource entities: an entity brings its equipment along, a query of its own.
        rows = (await session.execute(select(Resource.name, *HOURS_OWNER_COLUMNS)
                                      .where(Resource.id.in_(ids)))).all()
        if len(rows) != len(ids):
            raise ValidationFailed("unknown resource", {"chosen": "unknown_resource"})
        resources = [HoursOwner(row.id, row.timezone, row.closed_on_public_holidays) for row in rows]
        lo, hi = window.start - _MARGIN, window.end + _MARGIN
        busy: dict[int, list[tuple[datetime, datetime]]] = {i: [] for i in ids}
        stmt = select(Reservation.resource_id, Reservation.blocked_start, Reservation.blocked_end).where(
            Reservation.resource_id.in_(ids), Reservation.active.is_(True),
            Reservation.blocked_start < hi, Reservation.blocked_end > lo)
        if exclude_booking_id is not None:
            stmt = stmt.where(Reservation.booking_id != exclude_booking_id)
        for rid, start, end in (await session.execute(stmt)).all():
            busy[rid].append((start, end))
        imported = (select(ImportedBusyInterval.resource_id, ImportedBusyInterval.start, ImportedBusyInterval.end)
                    .join(CalendarSource, CalendarSource.id == ImportedBusyInterval.source_id)
                    .where(ImportedBusyInterval.resource_id.in_(ids), CalendarSource.active.is_(True),
                           ImportedBusyInterval.start < hi, ImportedBusyInterval.end > lo))
        for rid, start, end in (await session.execute(imported)).all():
            busy[rid].append((start, end))
        availabilities = await load_availabilities(session, resources)
        return {
            str(r.id): ResourceCalendar(str(r.id), availabilities[r.id],
                                        IntervalSet.from_pairs(busy[r.id]))
            for r in resources
        }, {row.id: row.name for row in rows}

    def query_for(self, ctype: ConsultationType, resolved: Sequence[ResolvedRequirement], window: Interval, *,
                  limit: int = 10, step_minutes: int = 15) -> SlotQuery:
        """The pure-domain query for a consultation type over ``window``."""
        try:
            return SlotQuery(
                requirements=tuple(Requirement(r.key, tuple(str(c) for c in r.candidates)) for r in resolved),
                window=window,
                duration=timedelta(minutes=ctype.duration_minutes),
                buffer_before=timedelta(minutes=ctype.buffer_before_minutes),
                buffer_after=timedelta(minutes=ctype.buffer_after_minutes),
                min_notice=timedelta(minutes=ctype.min_notice_minutes),
                step=timedelta(minutes=step_minutes),
                limit=limit,
            )
        except InvalidSearch as exc:
            raise ValidationFailed.for_field("search", exc) from exc

    async def search(self, session: AsyncSession, actor: Actor, data: SlotSearchInput) -> list[SlotView]:
        """The earliest ``data.limit`` slots at which every required resource is free."""
        require_roles(actor, *CLINICAL_ROLES, Role.ADMIN, what="search slots")
        try:
            window = Interval(data.window_start, data.window_end)
        except InvalidInterval as exc:
            raise ValidationFailed.for_field("window_end", exc) from exc
        ctype = await self.consultation_type(session, data.consultation_type_id)
        resolved = await self.resolve(session, ctype, data.municipality_id)
        query = self.query_for(ctype, resolved, window, limit=data.limit, step_minutes=data.step_minutes)
        calendars = await self.load_calendars(session, (c for r in resolved for c in r.candidates), window)
        slots = find_slots(query, calendars, now=self._clock.now())
        names = await self._names(session, {int(a.resource_id) for s in slots for a in s.assignments})
        return [
            SlotView(
                start=s.start, end=s.end, blocked_start=s.blocked.start, blocked_end=s.blocked.end,
                participants=tuple(
                    SlotParticipant(a.requirement, int(a.resource_id), *names[int(a.resource_id)])
                    for a in s.assignments),
            )
            for s in slots
        ]

    async def free_busy(self, session: AsyncSession, actor: Actor, resource_ids: Sequence[int],
                        window_start: datetime, window_end: datetime) -> list[FreeBusyView]:
        """Open hours and busy times of resources in a window, for week calendars (no patient data)."""
        require_roles(actor, *CLINICAL_ROLES, Role.ADMIN, what="see calendars")
        try:
            window = Interval(window_start, window_end)
        except InvalidInterval as exc:
            raise ValidationFailed("bad window", {"window_end": "invalid"}) from exc
        calendars, names = await self._calendars_and_names(session, resource_ids, window)
        return [
            FreeBusyView(
                resource_id=rid, name=names[rid],
                open=tuple(expand(calendars[str(rid)].availability, window).pairs()),
                busy=tuple(calendars[str(rid)].busy.clip(window).pairs()),
            )
            for rid in resource_ids
        ]

    async def _names(self, session: AsyncSession, ids: set[int]) -> dict[int, tuple[str, ResourceKind]]:
        if not ids:
            return {}
        rows = (await session.execute(select(Resource.id, Resource.name, Resource.kind)
                                      .where(Resource.id.in_(ids)))).all()
        return {rid: (name, kind) for rid, name, kind in rows}
