"""Setting up organisations after they exist: address and centre, departments, and each municipality's
travel to the hospitals. Every change is written to the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.people.models import Department, MunicipalityTravel, Organisation
from server.people.travel import TravelInput
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.errors import Conflict, NotFound, ValidationFailed
from server.platform.roles import OrganisationKind


@dataclass(frozen=True)
class OrganisationDetails:
    name: str
    code: str
    address: str
    centre_name: str
    centre_latitude: str
    centre_longitude: str


def _coordinate(raw: str, lo: float, hi: float) -> float | None:
    text = raw.strip().replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if lo <= value <= hi and text.lower() not in {"nan", "inf", "-inf", "infinity"} else None


class OrganisationSetup:
    """Changes an organisation's details, departments and travel; reads them for the pages."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    async def get(self, session: AsyncSession, organisation_id: int) -> Organisation:
        org = await session.get(Organisation, organisation_id)
        if org is None:
            raise NotFound("no such organisation")
        return org

    async def update_details(self, session: AsyncSession, actor: Actor, organisation_id: int,
                             details: OrganisationDetails) -> Organisation:
        """Name, code, address and centre; the centre is a place name and/or both coordinates."""
        org = await self.get(session, organisation_id)
        fields: dict[str, str] = {}
        name = details.name.strip()
        if not name:
            fields["name"] = "required"
        elif len(name) > 200:
            fields["name"] = "too_long"
        code = details.code.strip()
        if len(code) > 20:
            fields["code"] = "too_long"
        if len(details.address.strip()) > 300:
            fields["address"] = "too_long"
        if len(details.centre_name.strip()) > 200:
            fields["centre_name"] = "too_long"
        lat_raw, lon_raw = details.centre_latitude.strip(), details.centre_longitude.strip()
        lat = _coordinate(lat_raw, -90, 90) if lat_raw else None
        lon = _coordinate(lon_raw, -180, 180) if lon_raw else None
        if lat_raw and lat is None:
            fields["centre_latitude"] = "latitude_invalid"
        if lon_raw and lon is None:
            fields["centre_longitude"] = "longitude_invalid"
        if bool(lat_raw) != bool(lon_raw):  # half a position cannot be used for a distance
            fields["centre_longitude" if lat_raw else "centre_latitude"] = "coordinates_pair"
        if not fields and name != org.name:
            taken = (await session.execute(select(Organisation.id).where(Organisation.name == name))).first()
            if taken:
                fields["name"] = "organisation_exists"
        if fields:
            raise ValidationFailed("the organisation could not be saved", fields)
        org.name, org.code, org.address = name, code or None, details.address.strip()
        org.centre_name, org.centre_latitude, org.centre_longitude = details.centre_name.strip(), lat, lon
        await session.flush()
        await self._audit.record(session, actor, action="update", object_type="organisation", object_id=org.id)
        return org

    async def add_department(self, session: AsyncSession, actor: Actor, organisation_id: int,
                             name: str) -> Department:
        org = await self.get(session, organisation_id)
        name = name.strip()
        if not name:
            raise ValidationFailed("name is required", {"department": "required"})
        if len(name) > 200:
            raise ValidationFailed("name too long", {"department": "too_long"})
        if any(d.name.lower() == name.lower() for d in org.departments):
            raise ValidationFailed("department exists", {"department": "department_exists"})
        department = Department(organisation_id=org.id, name=name)
        session.add(department)
        await session.flush()
        await self._audit.record(session, actor, action="create", object_type="department",
                                 object_id=department.id)
        return department

    async def hospitals(self, session: AsyncSession) -> list[Organisation]:
        return list((await session.execute(
            select(Organisation).where(Organisation.kind == OrganisationKind.HOSPITAL)
            .order_by(Organisation.name))).scalars().all())

    async def travel_from(self, session: AsyncSession, municipality_id: int) -> list[MunicipalityTravel]:
        """A municipality's travel to each hospital it has, by hospital name."""
        rows = (await session.execute(
            select(MunicipalityTravel).where(MunicipalityTravel.municipality_id == municipality_id))).scalars()
        return sorted(rows.all(), key=lambda t: t.hospital.name)

    async def all_travel(self, session: AsyncSession) -> list[MunicipalityTravel]:
        """Every municipality's travel (for the benefits report and the organisations list)."""
        rows = (await session.execute(select(MunicipalityTravel))).scalars().all()
        return sorted(rows, key=lambda t: (t.municipality.name, t.hospital.name))

    async def set_travel(self, session: AsyncSession, actor: Actor, municipality_id: int, hospital_id: int,
                         travel: TravelInput) -> MunicipalityTravel:
        """Record (or replace) how people from the municipality travel to the hospital."""
        municipality = await self.get(session, municipality_id)
        if municipality.kind is not OrganisationKind.MUNICIPALITY:
            raise Conflict("travel is recorded for municipalities", code="travel_needs_municipality")
        hospital = await session.get(Organisation, hospital_id)
        if hospital is None or hospital.kind is not OrganisationKind.HOSPITAL:
            raise ValidationFailed("unknown hospital", {"hospital_id": "unknown_hospital"})
        row = (await session.execute(select(MunicipalityTravel).where(
            MunicipalityTravel.municipality_id == municipality_id,
            MunicipalityTravel.hospital_id == hospital_id))).scalar_one_or_none()
        action = "update"
        if row is None:
            row = MunicipalityTravel(municipality_id=municipality_id, hospital_id=hospital_id)
            session.add(row)
            action = "create"
        row.distance_km, row.travel_minutes = travel.distance_km, travel.travel_minutes
        row.transport, row.ferry, row.ferry_minutes = travel.transport.value, travel.ferry, travel.ferry_minutes
        await session.flush()
        await self._audit.record(session, actor, action=action, object_type="municipality_travel",
                                 object_id=row.id)
        return row
