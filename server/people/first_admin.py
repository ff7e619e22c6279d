"""The first administrator of an empty installation, made from the console (``samkonsult create-admin``).

A health trust starts with an empty database: no organisation, no user, nobody who could log in to set
anything up. The console is the one place that may make an administrator without being one; it refuses
when an active administrator already exists, unless the operator says it means another one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.people.accounts import AccountService
from server.people.models import Organisation, User
from server.platform.actors import Actor
from server.platform.errors import Conflict, ValidationFailed
from server.platform.roles import OrganisationKind, Role


def console_actor(os_user: str) -> Actor:
    """Who the audit log names for what the console does: the command and the operating-system user."""
    return Actor(kind="system", id=f"console:{os_user}", name=f"samkonsult create-admin ({os_user})",
                 role="system", organisation_id=None, organisation_name="")


@dataclass(frozen=True)
class NewAdmin:
    """What the operator typed (or passed as options) for the new administrator."""

    username: str
    display_name: str
    email: str
    password: str
    organisation: str


@dataclass(frozen=True)
class CreatedAdmin:
    user_id: int
    username: str
    organisation: str
    organisation_created: bool


async def active_admin_count(session: AsyncSession) -> int:
    """Administrators who can log in (a deactivated one cannot, so it does not count)."""
    return int((await session.execute(
        select(func.count(User.id)).where(User.role == Role.ADMIN, User.is_active.is_(True)))).scalar_one())


async def active_demo_account_count(session: AsyncSession) -> int:
    """Active demo accounts: their password is printed in the README, so production must have none."""
    return int((await session.execute(
        select(func.count(User.id)).where(User.is_demo.is_(True), User.is_active.is_(True)))).scalar_one())


async def organisation_names(session: AsyncSession) -> list[str]:
    return list((await session.execute(select(Organisation.name).order_by(Organisation.name))).scalars())


def _email_problem(email: str) -> str | None:
    local, at, domain = email.strip().partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in email.strip()):
        return "email_invalid"
    return None


async def create_admin(session: AsyncSession, accounts: AccountService, new: NewAdmin, *, another: bool,
                       actor: Actor) -> CreatedAdmin:
    """Create an administrator who enrols two-factor login at the first login (like every new user).

    When the database has no organisation yet, ``new.organisation`` names the health trust, created here
    as a hospital organisation; otherwise it must name an existing one. Raises ``Conflict`` (code
    ``admin_exists``) when an active administrator exists and ``another`` is false, and
    ``ValidationFailed`` naming every bad field (the password rules are the app's own).
    """
    if not another and await active_admin_count(session) > 0:
        raise Conflict("an administrator already exists", code="admin_exists")
    fields: dict[str, str] = {}
    email_problem = _email_problem(new.email)
    if email_problem:
        fields["email"] = email_problem
    names = await organisation_names(session)
    organisation = new.organisation.strip()
    if not organisation:
        fields["organisation"] = "required"
    elif names and organisation not in names:
        fields["organisation"] = "unknown_organisation"
    if fields:
        # The user's own fields are checked too, so one run lists every problem.
        try:
            await _create_user(session, accounts, new, organisation_id=-1, actor=actor)
        except ValidationFailed as exc:
            fields.update({k: v for k, v in exc.fields.items() if k != "organisation_id"})
        raise ValidationFailed("the administrator could not be created", fields)
    created = not names
    if created:
        org = await accounts.create_organisation(session, organisation, OrganisationKind.HOSPITAL, actor=actor)
    else:
        org = (await session.execute(select(Organisation).where(Organisation.name == organisation))).scalar_one()
    user = await _create_user(session, accounts, new, organisation_id=org.id, actor=actor)
    return CreatedAdmin(user.id, user.username, org.name, created)


async def _create_user(session: AsyncSession, accounts: AccountService, new: NewAdmin, *, organisation_id: int,
                       actor: Actor) -> User:
    return await accounts.create_user(
        session, username=new.username, display_name=new.display_name, password=new.password, role=Role.ADMIN,
        organisation_id=organisation_id, email=new.email.strip(), actor=actor)
