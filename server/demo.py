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
from server.people.accounts import AccountService
from server.people.models import Organisation, Patient, PatientOrganisation
from server.people.national_id import first_synthetic_id
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
    _DemoUser("lege", "Ingrid Hansen", Role.SPECIALIST, HOSPITAL, "Geriatri", "lege", "ingrid.hansen@example.no"),
    _DemoUser("sykepleier.rodoy", "Kari Nilsen", Role.NURSE, "Rødøy kommune", None, "sykepleier",
              "kari.nilsen@example.no"),
    _DemoUser("sykepleier.luroy", "Ola Johansen", Role.NURSE, "Lurøy kommune", None, "sykepleier",
              "ola.johansen@example.no"),
    _DemoUser("koordinator", "Siri Berg", Role.COORDINATOR, HOSPITAL, None, "helsesekretær",
              "siri.berg@example.no"),
    _DemoUser("leder", "Per Olsen", Role.TEAM_LEADER, HOSPITAL, None, "teamleder", "per.olsen@example.no"),
    _DemoUser("admin", "Anne Admin", Role.ADMIN, HOSPITAL, None, "systemansvarlig", "admin@example.no"),
)

_PATIENTS = (
    ("Astrid", "Olsen", date(1938, 3, 14), "Rødøy kommune", "Vågaholmen 12, 8186 Tjongsfjorden", "+47 41000001"),
    ("Johan", "Pedersen", date(1945, 11, 2), "Lurøy kommune", "Lurøy 3, 8766 Lurøy", "+47 41000002"),
    ("Marit", "Eriksen", date(1951, 6, 21), "Rødøy kommune", "Rødøy 7, 8193 Rødøy", "+47 41000003"),
)


async def is_seeded(session: AsyncSession) -> bool:
    return bool((await session.execute(select(func.count(Organisation.id)))).scalar_one())


async def seed_demo(session: AsyncSession, accounts: AccountService, clock: Clock,
                    actor: Actor = SYSTEM) -> list[DemoLogin]:
    """Create the demo organisations, users and patients; returns the logins to print."""
    hospital = await accounts.create_organisation(
        session, HOSPITAL, OrganisationKind.HOSPITAL, "983974910", ["Geriatri", "Ortopedi"], actor=actor)
    rodoy = await accounts.create_organisation(session, "Rødøy kommune", OrganisationKind.MUNICIPALITY, "1836",
                                               actor=actor)
    luroy = await accounts.create_organisation(session, "Lurøy kommune", OrganisationKind.MUNICIPALITY, "1834",
                                               actor=actor)
    orgs = {o.name: o for o in (hospital, rodoy, luroy)}
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
    await seed_scheduling(session, clock, hospital=HOSPITAL, actor=actor)
    log.info("demo data loaded")
    return logins
