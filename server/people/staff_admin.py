"""Looking after staff accounts: edit, deactivate and reactivate, reset the password or two-factor login.

Nothing here deletes a user: a deactivated user keeps their row, so bookings, notes and the audit log
still name them, while the login refuses them and the choosers leave them out. Every change is audited.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.people import passwords
from server.people.models import Department, LoginFailure, Organisation, User, WebSession
from server.people.professions import profession_code
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.errors import Conflict, NotFound, ValidationFailed
from server.platform.roles import Role

# No 0/O, 1/l/I: the temporary password is read aloud over the phone or copied from a screen.
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_DIGITS = re.compile(r"^\+?[0-9 ]+$")


class StaffCalendars(Protocol):
    """What deactivating a user asks of the calendars: stop offering the person for new bookings."""

    async def withdraw(self, session: AsyncSession, user_id: int) -> None: ...


@dataclass(frozen=True)
class StaffChanges:
    """A staff member's details as the admin wrote them (strings, as posted)."""

    display_name: str
    email: str
    phone: str
    role: str
    organisation_id: int | None
    department_id: int | None
    profession: str


def temporary_password() -> str:
    """Twelve random letters and digits in three groups ("k7mq-3xpa-9tnf"): enough to log in once."""
    return "-".join("".join(secrets.choice(_TEMP_ALPHABET) for _ in range(4)) for _ in range(3))


def contact_problems(email: str, phone: str) -> dict[str, str]:
    """Field codes for an email or phone number that cannot be used; empty ones are allowed."""
    fields: dict[str, str] = {}
    if email.strip() and (len(email.strip()) > 254 or not _EMAIL.match(email.strip())):
        fields["email"] = "email_invalid"
    digits = re.sub(r"\D", "", phone)
    if phone.strip() and (not _PHONE_DIGITS.match(phone.strip()) or not 8 <= len(digits) <= 15):
        fields["phone"] = "phone_invalid"
    return fields


async def placement_problems(session: AsyncSession, organisation_id: int | None,
                             department_id: int | None) -> dict[str, str]:
    """Field codes when the organisation is unknown or the department is not one of its own."""
    fields: dict[str, str] = {}
    org = await session.get(Organisation, organisation_id) if organisation_id else None
    if org is None:
        fields["organisation_id"] = "unknown_organisation"
    if department_id is not None:
        dep = await session.get(Department, department_id)
        if dep is None or dep.organisation_id != organisation_id:
            fields["department_id"] = "unknown_department"
    return fields


class StaffAdmin:
    """The administrator's changes to staff accounts."""

    def __init__(self, audit: AuditLog, calendars: StaffCalendars | None = None) -> None:
        self._audit = audit
        self._calendars = calendars

    async def get(self, session: AsyncSession, user_id: int) -> User:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("no such user")
        return user

    async def active_users(self, session: AsyncSession) -> list[User]:
        """The staff who can be chosen for something new: active ones only."""
        return list((await session.execute(
            select(User).where(User.is_active.is_(True)).order_by(User.display_name))).scalars().all())

    async def update(self, session: AsyncSession, actor: Actor, user_id: int, changes: StaffChanges) -> User:
        """Save name, contact details, role, placement and profession; every problem at once."""
        user = await self.get(session, user_id)
        fields: dict[str, str] = {}
        name = changes.display_name.strip()
        if not name:
            fields["display_name"] = "required"
        elif len(name) > 200:
            fields["display_name"] = "too_long"
        try:
            role = Role(changes.role)
        except ValueError:
            fields["role"] = "invalid_choice"
        profession = profession_code(changes.profession)
        if profession is None:
            fields["profession"] = "invalid_choice"
        fields.update(contact_problems(changes.email, changes.phone))
        fields.update(await placement_problems(session, changes.organisation_id, changes.department_id))
        if actor.user_id == user.id and "role" not in fields and role is not user.role:
            fields["role"] = "cannot_change_own_role"  # an admin must not lock themselves out by mistake
        if fields:
            raise ValidationFailed("the user could not be saved", fields)
        assert changes.organisation_id is not None and profession is not None
        user.display_name, user.email, user.phone = name, changes.email.strip(), changes.phone.strip()
        user.role, user.profession = role, profession
        user.organisation_id, user.department_id = changes.organisation_id, changes.department_id
        await session.flush()
        await session.refresh(user)  # the organisation and department relations follow the new ids
        await self._audit.record(session, actor, action="update", object_type="user", object_id=user.id)
        return user

    async def _end_sessions(self, session: AsyncSession, user_id: int) -> None:
        await session.execute(delete(WebSession).where(WebSession.user_id == user_id))

    async def deactivate(self, session: AsyncSession, actor: Actor, user_id: int) -> User:
        """No more logins, out of every chooser, signed out everywhere; the row and its history stay."""
        user = await self.get(session, user_id)
        if actor.user_id == user.id:
            raise Conflict("you cannot deactivate yourself", code="cannot_deactivate_self")
        if not user.is_active:
            return user
        user.is_active = False
        await self._end_sessions(session, user.id)
        if self._calendars is not None:
            await self._calendars.withdraw(session, user.id)
        await self._audit.record(session, actor, action="deactivate", object_type="user", object_id=user.id)
        return user

    async def reactivate(self, session: AsyncSession, actor: Actor, user_id: int) -> User:
        user = await self.get(session, user_id)
        if user.is_active:
            return user
        user.is_active = True
        await self._audit.record(session, actor, action="reactivate", object_type="user", object_id=user.id)
        return user

    async def reset_password(self, session: AsyncSession, actor: Actor, user_id: int) -> str:
        """A new one-time temporary password, returned once and stored only as its hash.

        The user must choose their own password right after logging in with it; their sessions end
        and past failed logins are forgotten so the lock does not keep them out."""
        user = await self.get(session, user_id)
        if not user.is_active:
            raise Conflict("the user is deactivated", code="user_inactive")
        password = temporary_password()
        user.password_hash = await passwords.hash_off_loop(password)
        user.must_change_password = True
        await self._end_sessions(session, user.id)
        await session.execute(delete(LoginFailure).where(LoginFailure.user_id == user.id))
        await self._audit.record(session, actor, action="reset_password", object_type="user", object_id=user.id)
        return password

    async def reset_two_factor(self, session: AsyncSession, actor: Actor, user_id: int) -> User:
        """Forget the authenticator app: the user sets up a new one at their next login."""
        user = await self.get(session, user_id)
        if not user.is_active:
            raise Conflict("the user is deactivated", code="user_inactive")
        user.totp_secret_encrypted = None
        user.totp_confirmed = False
        user.totp_last_step = 0
        await self._end_sessions(session, user.id)
        await self._audit.record(session, actor, action="reset_totp", object_type="user", object_id=user.id)
        return user
