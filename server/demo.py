"""Demo data: a Helgeland hospital, two island municipalities, their staff and three fictional patients.

Every national identity number here is synthetic (month + 80), never a real person's.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.demo import seed_scheduling
from server.demo_history import seed_history
from server.people.accounts import AccountService
from server.people.models import Organisation, Patient, PatientOrganisation
from server.people.national_id import first_synthetic_id
from server.people.organisation_setup import OrganisationDetails, OrganisationSetup
from server.people.travel import Transport, TravelInput
from server.platform.actors import SYSTEM, Actor
from server.platform.clock import Clock
from server.platform.roles import OrganisationKind, Role

log = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-passord-2026"
HOSPITAL = "Helgelandssykehuset Mo i Rana"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    role: str
    organisation: str


@dataclass(frozen=True)
class _DemoUser:
    username: str
    name: str
    role: Role
    organisation: str
    department: str | None
    profession: str
    email: str


_USERS = (
    _DemoUser("lege", "Ingrid Hansen", Role.SPECIALIST, HOSPITAL, "Geriatri", "doctor", "ingrid.hansen@example.no"),
    _DemoUser("sykepleier.rodoy", "Kari Nilsen", Role.NURSE, "Rødøy kommune", None, "nurse",
              "kari.nilsen@example.no"),
    _DemoUser("sykepleier.luroy", "Ola Johansen", Role.NURSE, "Lurøy kommune", None, "nurse",
              "ola.johansen@example.no"),
    _DemoUser("koordinator", "Siri Berg", Role.COORDINATOR, HOSPITAL, None, "patient_coordinator",
              "siri.berg@example.no"),
    _DemoUser("leder", "Per Olsen", Role.TEAM_LEADER, HOSPITAL, None, "nurse", "per.olsen@example.no"),
    _DemoUser("admin", "Anne Admin", Role.ADMIN, HOSPITAL, None, "", "admin@example.no"),
)

_PATIENTS = (
    ("Astrid", "Olsen", date(1938, 3, 14), "Rødøy kommune", "Vågaholmen 12, 8186 Tjongsfjorden", "+47 41000001"),
    ("Johan", "Pedersen", date(1945, 11, 2), "Lurøy kommune", "Lurøy 3, 8766 Lurøy", "+47 41000002"),
    ("Marit", "Eriksen", date(1951, 6, 21), "Rødøy kommune", "Rødøy 7, 8193 Rødøy", "+47 41000003"),
)


# Where each organisation is, and the usual trip from each island municipality to the hospital: by car
# to the ferry quay, the ferry across, and on by road (one way, waiting for the ferry included).
_PLACES = {
    HOSPITAL: ("Ole Tobias Olsens gate 2, 8613 Mo i Rana", "Mo i Rana", 66.3127, 14.1428),
    "Rødøy kommune": ("Rådhuset, 8186 Tjongsfjorden", "Vågaholmen", 66.7165, 13.4420),
    "Lurøy kommune": ("Lurøy kommune, 8766 Lurøy", "Lurøy", 66.4140, 12.8467),
}
_TRAVEL = {
    "Rødøy kommune": TravelInput(distance_km=142.0, travel_minutes=205, transport=Transport.CAR, ferry=True,
                                 ferry_minutes=60),
    "Lurøy kommune": TravelInput(distance_km=118.0, travel_minutes=170, transport=Transport.CAR, ferry=True,
                                 ferry_minutes=45),
}


async def is_seeded(session: AsyncSession) -> bool:
    return bool((await session.execute(select(func.count(Organisation.id)))).scalar_one())


async def seed_demo(session: AsyncSession, accounts: AccountService, clock: Clock,
                    actor: Actor = SYSTEM, *, history: bool = True) -> list[DemoLogin]:
    """Create the demo organisations, users and patients; returns the logins to print. ``history``:
    add six months of past consultations too (:mod:`server.demo_history`)."""
    hospital = await accounts.create_organisation(
        session, HOSPITAL, OrganisationKind.HOSPITAL, "983974910", ["Geriatri", "Ortopedi"], actor=actor)
    rodoy = await accounts.create_organisation(session, "Rødøy kommune", OrganisationKind.MUNICIPALITY, "1836",
                                               actor=actor)
    luroy = await accounts.create_organisation(session, "Lurøy kommune", OrganisationKind.MUNICIPALITY, "1834",
                                               actor=actor)
    orgs = {o.name: o for o in (hospital, rodoy, luroy)}
    setup = OrganisationSetup(accounts.audit)
    for name, (address, centre, lat, lon) in _PLACES.items():
        await setup.update_details(session, actor, orgs[name].id, OrganisationDetails(
            name=name, code=orgs[name].code or "", address=address, centre_name=centre,
            centre_latitude=str(lat), centre_longitude=str(lon)))
    for name, travel in _TRAVEL.items():
        await setup.set_travel(session, actor, orgs[name].id, hospital.id, travel)
    departments = {d.name: d.id for d in await accounts.list_departments(session)}
    logins: list[DemoLogin] = []
    for u in _USERS:
        org = orgs[u.organisation]
        await accounts.create_user(
            session, username=u.username, display_name=u.name, password=DEMO_PASSWORD, role=u.role,
            organisation_id=org.id, department_id=departments.get(u.department) if u.department else None,
            email=u.email, profession=u.profession, is_demo=True, actor=actor,
        )
        logins.append(DemoLogin(u.username, u.name, u.role.value, org.name))
    now = clock.now()
    for i, (given, family, born, municipality, address, phone) in enumerate(_PATIENTS):
        nin = first_synthetic_id(born, start=100 + 37 * i)
        patient = Patient(
            public_id=secrets.token_urlsafe(12), given_name=given, family_name=family, birth_date=born,
            national_id=nin, home_municipality_id=orgs[municipality].id, address=address, phone=phone,
            email="", preferred_language="nb", interpreter_needed=False, created_at=now,
        )
        session.add(patient)
        await session.flush()
        for org_id in {orgs[municipality].id, hospital.id}:
            session.add(PatientOrganisation(patient_id=patient.id, organisation_id=org_id, since=now))
    await session.flush()
    await seed_scheduling(session, clock, accounts.audit, hospital=HOSPITAL, actor=actor)
    # six months of past consultations, so the benefits report has something to show on first start
    if history:
        await seed_history(session, clock, hospital=HOSPITAL)
    log.info("demo data loaded")
    return logins
