"""Setting a trust up: health rooms with equipment and hours, equipment items, staff made bookable in
one step, consultation types created and changed, and rooms imported in bulk from a spreadsheet.

Nothing here deletes: a resource or consultation type that is no longer used is deactivated, so the
bookings that hold it keep their resources and their history. None of it is health data, so nothing
is audited; the roles allowed are checked here.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Mapping, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.availability import TimeRange
from scheduling.equipment import EQUIPMENT_KINDS
from scheduling.errors import InvalidAvailability
from scheduling.models import (
    ConsultationType,
    Equipment,
    RequirementKind,
    Resource,
    ResourceKind,
    RoomEquipment,
    TypeRequirement,
    WeeklyHoursRow,
)
from scheduling.room_import import check_no_overlap, parse_rooms
from scheduling.services.common import require_roles
from scheduling.services.resources import resource_view, type_view
from scheduling.services.setup_views import (
    BookableCandidate,
    EquipmentItemInput,
    ImportReport,
    ResourceChange,
    RoomInput,
)
from scheduling.services.views import ConsultationTypeInput, ConsultationTypeView, HoursInput, ResourceView
from server.people.models import Department, Organisation, User
from server.people.professions import Profession
from server.platform.actors import Actor
from server.platform.clock import Clock
from server.platform.errors import NotFound, ValidationFailed
from server.platform.roles import OrganisationKind, Role

SETUP_ROLES = (Role.ADMIN, Role.COORDINATOR)
"""Who sets up rooms, equipment and bookable staff."""
TYPE_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.TEAM_LEADER)
"""Who sets up consultation types: the team leader decides how the team's consultations run."""
BOOKABLE_ROLES = (Role.SPECIALIST, Role.NURSE)
"""Staff whom slot search proposes (a specialist of a department, a nurse of a municipality)."""

MAX_DURATION = 8 * 60
MAX_BUFFER = 4 * 60
MAX_NOTICE = 60 * 24 * 60
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name.replace("ø", "o").replace("æ", "ae").replace("å", "a")
                                  .replace("Ø", "O").replace("Æ", "Ae").replace("Å", "A"))
    plain = plain.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")[:50] or "type"


def check_hours(hours: Sequence[HoursInput]) -> None:
    """Refuse weekly hours with an unknown weekday, an empty range or ranges that overlap on a day."""
    by_day: dict[int, list[TimeRange]] = {}
    for h in hours:
        if not 0 <= h.weekday <= 6:
            raise InvalidAvailability("weekday must be 0..6", code="availability.weekdays")
        by_day.setdefault(h.weekday, []).append(TimeRange(h.start, h.end))
    for ranges in by_day.values():
        check_no_overlap(tuple(sorted(ranges, key=lambda r: r.start)))


class SetupService:
    """Creates and changes what a trust books: rooms, equipment, bookable staff, consultation types."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    # ------------------------------------------------------------------------------ lookups

    async def list_all_resources(self, session: AsyncSession) -> list[ResourceView]:
        """Every resource, active or not, by kind and name."""
        rows = (await session.execute(select(Resource).order_by(Resource.kind, Resource.name))).scalars().all()
        return [resource_view(r) for r in rows]

    async def municipalities(self, session: AsyncSession) -> list[tuple[int, str]]:
        rows = (await session.execute(select(Organisation).where(
            Organisation.kind == OrganisationKind.MUNICIPALITY).order_by(Organisation.name))).scalars().all()
        return [(o.id, o.name) for o in rows]

    async def organisations(self, session: AsyncSession) -> list[tuple[int, str]]:
        rows = (await session.execute(select(Organisation).order_by(Organisation.name))).scalars().all()
        return [(o.id, o.name) for o in rows]

    async def departments(self, session: AsyncSession) -> list[tuple[int, str]]:
        """Every department as ``(id, "Department (Organisation)")``."""
        rows = (await session.execute(select(Department).order_by(Department.name))).scalars().all()
        return [(d.id, f"{d.name} ({d.organisation.name})") for d in rows]

    async def bookable_candidates(self, session: AsyncSession) -> list[BookableCandidate]:
        """Active specialists and nurses who are not bookable now, by name."""
        active = {uid: act for uid, act in (await session.execute(
            select(Resource.user_id, Resource.active).where(Resource.user_id.is_not(None)))).all()}
        users = (await session.execute(select(User).where(
            User.is_active.is_(True), User.role.in_(BOOKABLE_ROLES)).order_by(User.display_name))).scalars().all()
        return [
            BookableCandidate(u.id, u.display_name, u.role.value, u.organisation.name,
                              u.department.name if u.department else "", u.id in active)
            for u in users if not active.get(u.id, False)
        ]

    async def _resource(self, session: AsyncSession, resource_id: int) -> Resource:
        row = await session.get(Resource, resource_id)
        if row is None:
            raise NotFound("no such resource")
        return row

    async def _equipment(self, session: AsyncSession, codes: Sequence[str],
                         fields: dict[str, str], field: str = "equipment_codes") -> list[Equipment]:
        """The equipment kinds of ``codes``, created on first use when they are known kinds."""
        known = {e.code: e for e in (await session.execute(select(Equipment))).scalars()}
        found: list[Equipment] = []
        for code in dict.fromkeys(codes):
            if code not in known:
                if code not in EQUIPMENT_KINDS:
                    fields[field] = "unknown_equipment"
                    continue
                known[code] = Equipment(code=code, name=code)
                session.add(known[code])
            found.append(known[code])
        return found

    @staticmethod
    def _check_hours(hours: Sequence[HoursInput], fields: dict[str, str]) -> None:
        try:
            check_hours(hours)
        except InvalidAvailability:
            fields["hours"] = "hours_overlap"

    async def _replace_hours(self, session: AsyncSession, resource_id: int, hours: Sequence[HoursInput]) -> None:
        await session.execute(delete(WeeklyHoursRow).where(WeeklyHoursRow.resource_id == resource_id))
        for h in hours:
            session.add(WeeklyHoursRow(resource_id=resource_id, weekday=h.weekday, start_time=h.start,
                                       end_time=h.end))

    async def _set_equipment(self, session: AsyncSession, resource: Resource, kinds: Sequence[Equipment]) -> None:
        await session.flush()
        await session.execute(delete(RoomEquipment).where(RoomEquipment.resource_id == resource.id))
        for e in kinds:
            session.add(RoomEquipment(resource_id=resource.id, equipment_id=e.id))
        await session.flush()
        await session.refresh(resource, ["equipment"])

    # ------------------------------------------------------------------------------ health rooms

    async def create_health_room(self, session: AsyncSession, actor: Actor, data: RoomInput) -> ResourceView:
        """A health room of a municipality, with its equipment and weekly hours, in one step."""
        require_roles(actor, *SETUP_ROLES, what="set up health rooms")
        fields: dict[str, str] = {}
        name = data.name.strip()
        if not name:
            fields["name"] = "required"
        elif len(name) > 200:
            fields["name"] = "too_long"
        muni = await session.get(Organisation, data.municipality_id) if data.municipality_id else None
        if muni is None or muni.kind is not OrganisationKind.MUNICIPALITY:
            fields["municipality_id"] = "unknown_municipality"
        elif name and (await session.execute(select(Resource.id).where(
                Resource.kind == ResourceKind.HEALTH_ROOM, Resource.active.is_(True),
                Resource.municipality_id == muni.id, func.lower(Resource.name) == name.lower()))).first():
            fields["name"] = "room_exists"
        self._check_text(data.address, data.email, fields)
        kinds = await self._equipment(session, data.equipment_codes, fields)
        self._check_hours(data.hours, fields)
        if fields:
            raise ValidationFailed("the health room could not be created", fields)
        assert muni is not None
        room = Resource(
            kind=ResourceKind.HEALTH_ROOM, name=name, organisation_id=muni.id, municipality_id=muni.id,
            address=data.address.strip(), email=data.email.strip(), active=True, created_at=self._clock.now())
        session.add(room)
        await session.flush()
        await self._replace_hours(session, room.id, data.hours)
        await self._set_equipment(session, room, kinds)
        return resource_view(room)

    @staticmethod
    def _check_text(address: str, email: str, fields: dict[str, str]) -> None:
        if len(address.strip()) > 300:
            fields["address"] = "too_long"
        if email.strip() and (len(email.strip()) > 254 or not _EMAIL.match(email.strip())):
            fields["email"] = "email_invalid"

    async def update_resource(self, session: AsyncSession, actor: Actor, resource_id: int,
                              data: ResourceChange) -> ResourceView:
        """Change a resource's name and what applies to its kind (a room's address, mailbox and
        equipment; the room an equipment item is kept in). A person's name follows the user."""
        require_roles(actor, *SETUP_ROLES, what="set up resources")
        resource = await self._resource(session, resource_id)
        fields: dict[str, str] = {}
        name = data.name.strip()
        if resource.kind is not ResourceKind.PERSON:
            if not name:
                fields["name"] = "required"
            elif len(name) > 200:
                fields["name"] = "too_long"
        kinds: list[Equipment] = []
        if resource.kind is ResourceKind.HEALTH_ROOM:
            self._check_text(data.address, data.email, fields)
            kinds = await self._equipment(session, data.equipment_codes, fields)
        room: Resource | None = None
        if resource.kind is ResourceKind.EQUIPMENT and data.located_in_id is not None:
            room = await session.get(Resource, data.located_in_id)
            if room is None or room.kind is not ResourceKind.HEALTH_ROOM:
                fields["room_id"] = "unknown_room"
        if fields:
            raise ValidationFailed("the resource could not be changed", fields)
        if resource.kind is not ResourceKind.PERSON:
            resource.name = name
        if resource.kind is ResourceKind.HEALTH_ROOM:
            resource.address, resource.email = data.address.strip(), data.email.strip()
            await self._set_equipment(session, resource, kinds)
        if resource.kind is ResourceKind.EQUIPMENT:
            resource.located_in_id = room.id if room is not None else None
        await session.flush()
        return resource_view(resource)

    async def set_resource_active(self, session: AsyncSession, actor: Actor, resource_id: int,
                                  active: bool) -> ResourceView:
        """Take a resource out of slot search or back in; its bookings and history stay as they are."""
        require_roles(actor, *SETUP_ROLES, what="set up resources")
        resource = await self._resource(session, resource_id)
        resource.active = active
        await session.flush()
        return resource_view(resource)

    # ------------------------------------------------------------------------------ equipment

    async def create_equipment_item(self, session: AsyncSession, actor: Actor,
                                    data: EquipmentItemInput) -> ResourceView:
        """A bookable piece of equipment of a known kind, owned by an organisation; when it is kept in a
        health room its kind counts as that room's equipment in slot search."""
        require_roles(actor, *SETUP_ROLES, what="set up equipment")
        fields: dict[str, str] = {}
        kinds = await self._equipment(session, [data.code] if data.code else [], fields, "code")
        if not data.code:
            fields["code"] = "required"
        name = data.name.strip()
        if len(name) > 200:
            fields["name"] = "too_long"
        room: Resource | None = None
        if data.room_id is not None:
            room = await session.get(Resource, data.room_id)
            if room is None or room.kind is not ResourceKind.HEALTH_ROOM:
                fields["room_id"] = "unknown_room"
        org_id = data.organisation_id or (room.organisation_id if room is not None else None)
        if org_id is None or await session.get(Organisation, org_id) is None:
            fields["organisation_id"] = "unknown_organisation"
        if fields:
            raise ValidationFailed("the equipment could not be created", fields)
        assert org_id is not None
        item = Resource(kind=ResourceKind.EQUIPMENT, name=name or data.code, organisation_id=org_id,
                        located_in_id=room.id if room is not None else None, active=True,
                        created_at=self._clock.now())
        session.add(item)
        await session.flush()
        await self._set_equipment(session, item, kinds)
        return resource_view(item)

    # ------------------------------------------------------------------------------ bookable staff

    async def make_bookable(self, session: AsyncSession, actor: Actor, user_id: int | None,
                            hours: Sequence[HoursInput]) -> ResourceView:
        """Make a specialist or nurse bookable with weekly hours in one step: their person resource is
        created (or, if they were bookable before, made active again) and the hours replace any old ones."""
        require_roles(actor, *SETUP_ROLES, what="make staff bookable")
        fields: dict[str, str] = {}
        user = await session.get(User, user_id) if user_id is not None else None
        existing: Resource | None = None
        if user is None or not user.is_active or user.role not in BOOKABLE_ROLES:
            fields["user_id"] = "unknown_user"
        else:
            existing = (await session.execute(select(Resource).where(Resource.user_id == user.id))).scalar_one_or_none()
            if existing is not None and existing.active:
                fields["user_id"] = "resource_exists"
        self._check_hours(hours, fields)
        if not hours:
            fields.setdefault("hours", "hours_required")
        if fields:
            raise ValidationFailed("the staff member could not be made bookable", fields)
        assert user is not None
        if existing is None:
            existing = Resource(kind=ResourceKind.PERSON, name=user.display_name, organisation_id=user.organisation_id,
                                user_id=user.id, department_id=user.department_id, profession=user.profession,
                                email="", active=True, created_at=self._clock.now())
            session.add(existing)
        else:
            existing.active = True
            existing.name, existing.department_id = user.display_name, user.department_id
            existing.organisation_id, existing.profession = user.organisation_id, user.profession
        await session.flush()
        await self._replace_hours(session, existing.id, hours)
        await session.flush()
        await session.refresh(existing, ["equipment"])
        return resource_view(existing)

    # ------------------------------------------------------------------------------ consultation types

    async def list_all_consultation_types(self, session: AsyncSession) -> list[tuple[ConsultationTypeView, bool]]:
        """Every consultation type with whether it is active, active first, then by name."""
        rows = (await session.execute(select(ConsultationType).order_by(
            ConsultationType.active.desc(), ConsultationType.name))).scalars().all()
        return [(type_view(t), t.active) for t in rows]

    async def consultation_type(self, session: AsyncSession, type_id: int) -> tuple[ConsultationTypeView, bool]:
        row = await session.get(ConsultationType, type_id)
        if row is None:
            raise NotFound("no such consultation type")
        return type_view(row), row.active

    async def _check_type(self, session: AsyncSession, data: ConsultationTypeInput, type_id: int | None,
                          fields: dict[str, str]) -> None:
        for field, text in (("name", data.name), ("name_en", data.name_en)):
            if not text.strip():
                fields[field] = "required"
            elif len(text.strip()) > 200:
                fields[field] = "too_long"
        if data.name.strip():
            same = select(ConsultationType.id).where(func.lower(ConsultationType.name) == data.name.strip().lower())
            if type_id is not None:
                same = same.where(ConsultationType.id != type_id)
            if (await session.execute(same)).first():
                fields["name"] = "type_exists"
        if not 5 <= data.duration_minutes <= MAX_DURATION:
            fields["duration_minutes"] = "duration_range"
        for field, value, top in (("buffer_before_minutes", data.buffer_before_minutes, MAX_BUFFER),
                                  ("buffer_after_minutes", data.buffer_after_minutes, MAX_BUFFER),
                                  ("min_notice_minutes", data.min_notice_minutes, MAX_NOTICE)):
            if not 0 <= value <= top:
                fields[field] = "minutes_range"
        await self._check_requirements(session, data, fields)

    async def _check_requirements(self, session: AsyncSession, data: ConsultationTypeInput,
                                  fields: dict[str, str]) -> None:
        keys = [r.key for r in data.requirements]
        kinds = [r.kind for r in data.requirements]
        if len(set(keys)) != len(keys) or not all(re.fullmatch(r"[a-z][a-z0-9_]{0,39}", k) for k in keys):
            fields["requirements"] = "invalid_choice"
        elif all(k is RequirementKind.PATIENT_HOME for k in kinds):
            fields["requirements"] = "requirements_empty"
        elif RequirementKind.PATIENT_HOME in kinds and RequirementKind.HEALTH_ROOM in kinds:
            fields["requirements"] = "home_and_room"
        for r in data.requirements:
            if r.kind is RequirementKind.NAMED_PERSON:
                person = await session.get(Resource, r.resource_id) if r.resource_id is not None else None
                if person is None or person.kind is ResourceKind.HEALTH_ROOM:
                    fields[f"requirements.{r.key}"] = "unknown_resource"
            if r.kind is RequirementKind.DEPARTMENT_SPECIALIST and (
                    r.department_id is None or await session.get(Department, r.department_id) is None):
                fields[f"requirements.{r.key}"] = "unknown_department"
            if r.kind is RequirementKind.HEALTH_ROOM:
                await self._equipment(session, r.equipment_codes, fields, f"requirements.{r.key}")
            if r.kind is RequirementKind.PROFESSION:
                if r.profession not in {p.value for p in Profession}:
                    fields[f"requirements.{r.key}"] = "unknown_profession"
                elif r.department_id is not None and await session.get(Department, r.department_id) is None:
                    fields[f"requirements.{r.key}"] = "unknown_department"

    def _requirement_rows(self, data: ConsultationTypeInput) -> list[TypeRequirement]:
        # Only the fields a kind uses are kept: a person, department or profession sent with a kind that
        # has none means nothing, was never checked, and must not reach the database (an unknown resource
        # id there broke the foreign key).
        kinds = RequirementKind
        return [TypeRequirement(
            position=i, key=r.key, kind=r.kind,
            resource_id=r.resource_id if r.kind is kinds.NAMED_PERSON else None,
            department_id=r.department_id if r.kind in (kinds.DEPARTMENT_SPECIALIST, kinds.PROFESSION) else None,
            profession=r.profession if r.kind is kinds.PROFESSION else "",
            equipment_codes=",".join(dict.fromkeys(r.equipment_codes)) if r.kind is kinds.HEALTH_ROOM else "")
            for i, r in enumerate(data.requirements)]

    async def create_consultation_type(self, session: AsyncSession, actor: Actor,
                                       data: ConsultationTypeInput) -> ConsultationTypeView:
        """A new consultation type (names in both languages, duration, buffers, notice, who takes part).
        Its code is made from the Norwegian name when none is given."""
        require_roles(actor, *TYPE_ROLES, what="set up consultation types")
        fields: dict[str, str] = {}
        await self._check_type(session, data, None, fields)
        code = data.code.strip() or _slug(data.name)
        if not re.fullmatch(r"[a-z0-9_]{1,60}", code):
            fields["code"] = "invalid_choice"
        elif data.code.strip() and (await session.execute(
                select(ConsultationType.id).where(ConsultationType.code == code))).first():
            fields["code"] = "type_exists"
        if fields:
            raise ValidationFailed("the consultation type could not be created", fields)
        base, n = code[:56], 2
        while (await session.execute(select(ConsultationType.id).where(ConsultationType.code == code))).first():
            code, n = f"{base}_{n}", n + 1
        row = ConsultationType(
            code=code, name=data.name.strip(), name_en=data.name_en.strip(), duration_minutes=data.duration_minutes,
            buffer_before_minutes=data.buffer_before_minutes, buffer_after_minutes=data.buffer_after_minutes,
            min_notice_minutes=data.min_notice_minutes, active=True, requirements=self._requirement_rows(data))
        session.add(row)
        await session.flush()
        return type_view(row)

    async def update_consultation_type(self, session: AsyncSession, actor: Actor, type_id: int,
                                       data: ConsultationTypeInput) -> ConsultationTypeView:
        """Change a consultation type. Bookings made before keep their times and resources; slot search
        uses the new duration, buffers, notice and participants from now on. The code never changes."""
        require_roles(actor, *TYPE_ROLES, what="set up consultation types")
        row = await session.get(ConsultationType, type_id)
        if row is None:
            raise NotFound("no such consultation type")
        fields: dict[str, str] = {}
        await self._check_type(session, data, type_id, fields)
        if fields:
            raise ValidationFailed("the consultation type could not be changed", fields)
        row.name, row.name_en = data.name.strip(), data.name_en.strip()
        row.duration_minutes, row.min_notice_minutes = data.duration_minutes, data.min_notice_minutes
        row.buffer_before_minutes, row.buffer_after_minutes = data.buffer_before_minutes, data.buffer_after_minutes
        row.requirements.clear()
        await session.flush()  # the old rows go before new ones take their keys
        row.requirements.extend(self._requirement_rows(data))
        await session.flush()
        return type_view(row)

    async def set_type_active(self, session: AsyncSession, actor: Actor, type_id: int, active: bool) -> None:
        """Offer a consultation type for booking again, or stop offering it; its bookings stay."""
        require_roles(actor, *TYPE_ROLES, what="set up consultation types")
        row = await session.get(ConsultationType, type_id)
        if row is None:
            raise NotFound("no such consultation type")
        row.active = active
        await session.flush()

    # ------------------------------------------------------------------------------ bulk import

    async def import_rooms(self, session: AsyncSession, actor: Actor, data: bytes, *,
                           equipment_names: Mapping[str, str], dry_run: bool) -> ImportReport:
        """Check a spreadsheet of health rooms and, when every row is fine and this is not a dry run, create
        them all in the caller's one transaction. A file with any problem imports nothing.

        ``equipment_names`` maps equipment names as people write them (lower case, any language) to codes;
        the codes themselves are always accepted.
        """
        require_roles(actor, *SETUP_ROLES, what="import health rooms")
        municipalities: dict[str, int] = {}
        for org in (await session.execute(select(Organisation).where(
                Organisation.kind == OrganisationKind.MUNICIPALITY))).scalars():
            municipalities[org.name.lower()] = org.id
            if org.code:
                municipalities[org.code.lower()] = org.id
            municipalities.setdefault(org.name.lower().removesuffix(" kommune"), org.id)
        aliases = {code: code for code in EQUIPMENT_KINDS} | {k.lower(): v for k, v in equipment_names.items()}
        existing = {(mid, name.lower()) for mid, name in (await session.execute(select(
            Resource.municipality_id, Resource.name).where(Resource.kind == ResourceKind.HEALTH_ROOM,
                                                           Resource.active.is_(True)))).all() if mid is not None}
        # Parsing and checking up to 2,000 rows is CPU work; a worker thread keeps the event loop answering.
        parsed = await asyncio.to_thread(parse_rooms, data, municipalities=municipalities, equipment=aliases,
                                         existing=existing)
        if parsed.problems or dry_run:
            return ImportReport(len(parsed.rooms), parsed.problems, imported=False)
        for room in parsed.rooms:
            await self.create_health_room(session, actor, RoomInput(
                name=room.name, municipality_id=room.municipality_id, address=room.address, email=room.email,
                equipment_codes=room.equipment_codes,
                hours=tuple(HoursInput(day, r.start, r.end) for day in range(5) for r in room.hours)))
        return ImportReport(len(parsed.rooms), (), imported=True)
