"""Staff accounts: organisations, users, login with password and TOTP, and login throttling."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.people import passwords, totp
from server.people.login_throttle import LoginThrottle
from server.people.models import Department, LoginFailure, Organisation, PatientOrganisation, User
from server.people.professions import profession_code
from server.people.staff_actor import staff_actor
from server.people.staff_admin import contact_problems
from server.platform.actors import SYSTEM, Actor
from server.platform.audit import AuditLog
from server.platform.clock import Clock
from server.platform.errors import AuthenticationFailed, Conflict, NotFound, RateLimited, ValidationFailed
from server.platform.roles import OrganisationKind, Role

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrganisationOverview:
    """Counts a team leader may see: no names, no health data."""

    staff_by_role: dict[Role, int]
    patient_count: int


@dataclass(frozen=True)
class LoginOutcome:
    user: User
    needs_totp: bool
    needs_enrolment: bool


class AccountService:
    """Creates organisations and users and checks logins."""

    def __init__(self, clock: Clock, audit: AuditLog, cipher: totp.TotpCipher,
                 failed_login_limit: int = 100, relax_totp_for_demo: bool = False) -> None:
        self._clock = clock
        self._audit = audit
        self._cipher = cipher
        self._limit = failed_login_limit
        self._throttle = LoginThrottle(clock, failed_login_limit)
        self._relax_demo = relax_totp_for_demo

    @property
    def failed_login_limit(self) -> int:
        """Failed logins allowed in an hour for one name from one address (and for TOTP per account)."""
        return self._limit

    @property
    def throttle(self) -> LoginThrottle:
        """The password-login throttle (per name and address, and per address)."""
        return self._throttle

    @property
    def audit(self) -> AuditLog:
        """The audit log this service writes to (the demo seeding builds its other services on it)."""
        return self._audit

    async def create_organisation(
        self, session: AsyncSession, name: str, kind: OrganisationKind, code: str | None = None,
        departments: list[str] | None = None, actor: Actor = SYSTEM,
    ) -> Organisation:
        name = name.strip()
        if not name:
            raise ValidationFailed("name is required", {"name": "required"})
        if (await session.execute(select(Organisation).where(Organisation.name == name))).first():
            raise Conflict(f"organisation {name!r} exists", code="organisation_exists")
        org = Organisation(name=name, kind=kind, code=code)
        session.add(org)
        await session.flush()
        for dep in departments or []:
            session.add(Department(organisation_id=org.id, name=dep.strip()))
        await session.flush()
        await self._audit.record(session, actor, action="create", object_type="organisation", object_id=org.id)
        return org

    async def create_user(
        self, session: AsyncSession, *, username: str, display_name: str, password: str, role: Role,
        organisation_id: int, department_id: int | None = None, email: str = "", phone: str = "",
        profession: str = "", is_demo: bool = False, actor: Actor = SYSTEM,
    ) -> User:
        fields: dict[str, str] = {}
        username = username.strip().lower()
        if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
            fields["username"] = "username_invalid"
        if not display_name.strip():
            fields["display_name"] = "required"
        problem = passwords.password_problem(password)
        if problem:
            fields["password"] = problem
        org = await session.get(Organisation, organisation_id)
        if org is None:
            fields["organisation_id"] = "unknown_organisation"
        if department_id is not None:
            dep = await session.get(Department, department_id)
            if dep is None or dep.organisation_id != organisation_id:
                fields["department_id"] = "unknown_department"
        code = profession_code(profession)
        if code is None:
            fields["profession"] = "invalid_choice"
        fields.update(contact_problems(email, phone))
        if fields:
            raise ValidationFailed("the user could not be created", fields)
        if (await session.execute(select(User.id).where(User.username == username))).first():
            raise ValidationFailed("username taken", {"username": "username_taken"})
        now = self._clock.now()
        user = User(
            username=username, display_name=display_name.strip(), email=email.strip(), phone=phone.strip(),
            role=role, profession=code or "", organisation_id=organisation_id, department_id=department_id,
            password_hash=await passwords.hash_off_loop(password), is_demo=is_demo, created_at=now,
            password_changed_at=now, totp_confirmed=False,
        )
        session.add(user)
        try:
            await session.flush()
        except IntegrityError:
            raise ValidationFailed("username taken", {"username": "username_taken"}) from None
        await self._audit.record(session, actor, action="create", object_type="user", object_id=user.id)
        return user

    async def _recent_failures(
        self, session: AsyncSession, user_id: int
    ) -> tuple[int, tuple[datetime | None, datetime | None]]:
        since = self._clock.now() - timedelta(hours=1)
        row = (
            await session.execute(
                select(func.count(LoginFailure.id), func.max(LoginFailure.at), func.min(LoginFailure.at))
                .where(LoginFailure.user_id == user_id, LoginFailure.at > since)
            )
        ).one()
        return int(row[0]), (row[1], row[2])

    async def check_password(self, session: AsyncSession, username: str, password: str,
                             client: str = "unknown") -> LoginOutcome:
        """First step of a login from the client address ``client``. Raises AuthenticationFailed or RateLimited.

        An unknown or deactivated name costs the same work and gets the same answer as a wrong
        password, and is throttled alike, so no answer tells which accounts exist.
        """
        user = (
            await session.execute(select(User).where(User.username == username.strip().lower()))
        ).scalar_one_or_none()
        # From here to the counted failure nothing awaits, so parallel guesses cannot slip past the check.
        refusal = self._throttle.check(username, client)
        if refusal is not None:
            if refusal.locked:
                raise RateLimited("too many failed logins", retry_after_seconds=refusal.retry_after_seconds,
                                  code="login_locked")
            raise RateLimited("wait before trying again", retry_after_seconds=refusal.retry_after_seconds,
                              code="login_throttled")
        stored_hash = user.password_hash if user is not None and user.is_active else None
        # verify_password checks a dummy hash when there is none: the same Argon2 work either way. It runs
        # first, never short-circuited, or an unknown name would be answered faster than a real one.
        matches = await passwords.verify_off_loop(stored_hash, password)
        if not matches or user is None:
            self._throttle.record_failure(username, client)
            raise AuthenticationFailed("wrong username or password", code="login_failed")
        self._throttle.record_success(username, client)
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = await passwords.hash_off_loop(password)
        relaxed = self._relax_demo and user.is_demo
        return LoginOutcome(user=user, needs_totp=not relaxed and user.totp_confirmed,
                            needs_enrolment=not relaxed and not user.totp_confirmed)

    async def record_login(self, session: AsyncSession, user: User) -> None:
        await self._audit.record(session, staff_actor(user), action="login", object_type="user",
                                 object_id=user.id)

    async def record_failure(self, session: AsyncSession, user_id: int) -> None:
        session.add(LoginFailure(user_id=user_id, at=self._clock.now()))
        await session.flush()

    async def check_totp(self, session: AsyncSession, user: User, code: str) -> None:
        """Second step: a valid code for a confirmed secret, or a counted failure."""
        secret = self._cipher.decrypt(user.totp_secret_encrypted or "")
        count, _ = await self._recent_failures(session, user.id)
        if count >= self._limit:
            raise RateLimited("too many failed logins", retry_after_seconds=3600, code="login_locked")
        step = None if secret is None else totp.matching_step(secret, code, self._clock.now())
        if step is None or step <= user.totp_last_step:
            # A used code is refused like a wrong one: it may have been seen over a shoulder.
            await self.record_failure(session, user.id)
            raise AuthenticationFailed("wrong code", code="totp_failed")
        user.totp_last_step = step

    async def start_enrolment(self, session: AsyncSession, user: User) -> str:
        """Give the user a new unconfirmed secret and return it (to show as a QR code)."""
        if user.totp_confirmed:
            raise Conflict("two-factor is already set up", code="totp_already_enrolled")
        secret = totp.new_secret()
        user.totp_secret_encrypted = self._cipher.encrypt(secret)
        await session.flush()
        return secret

    def pending_secret(self, user: User) -> str | None:
        return self._cipher.decrypt(user.totp_secret_encrypted or "")

    async def confirm_enrolment(self, session: AsyncSession, user: User, code: str) -> None:
        secret = self.pending_secret(user)
        step = None if secret is None else totp.matching_step(secret, code, self._clock.now())
        if step is None:
            raise ValidationFailed("wrong code", {"code": "totp_failed"})
        user.totp_confirmed = True
        user.totp_last_step = step
        await self._audit.record(session, staff_actor(user), action="enrol_totp", object_type="user",
                                 object_id=user.id)

    async def set_totp_secret(self, session: AsyncSession, user: User, secret: str) -> None:
        """Install a known secret as confirmed (CLI and demo data)."""
        user.totp_secret_encrypted = self._cipher.encrypt(secret)
        user.totp_confirmed = True
        user.totp_last_step = 0
        await session.flush()

    async def change_password(self, session: AsyncSession, user: User, old: str, new: str) -> None:
        if not await passwords.verify_off_loop(user.password_hash, old):
            raise ValidationFailed("wrong password", {"old_password": "wrong_password"})
        problem = passwords.password_problem(new)
        if problem:
            raise ValidationFailed("weak password", {"new_password": problem})
        if await passwords.verify_off_loop(user.password_hash, new):
            raise ValidationFailed("same password", {"new_password": "password_unchanged"})
        user.password_hash = await passwords.hash_off_loop(new)
        user.password_changed_at = self._clock.now()
        user.must_change_password = False
        await session.execute(delete(LoginFailure).where(LoginFailure.user_id == user.id))
        await self._audit.record(session, staff_actor(user), action="change_password", object_type="user",
                                 object_id=user.id)

    async def get_user(self, session: AsyncSession, user_id: int) -> User:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("no such user")
        return user

    async def list_users(self, session: AsyncSession) -> list[User]:
        return list((await session.execute(select(User).order_by(User.display_name))).scalars().all())

    async def list_organisations(self, session: AsyncSession) -> list[Organisation]:
        return list((await session.execute(select(Organisation).order_by(Organisation.name))).scalars().all())

    async def organisation_overview(self, session: AsyncSession, actor: Actor) -> OrganisationOverview:
        staff = (await session.execute(
            select(User.role, func.count(User.id)).where(User.organisation_id == actor.organisation_id)
            .group_by(User.role))).all()
        patients = (await session.execute(
            select(func.count(PatientOrganisation.patient_id))
            .where(PatientOrganisation.organisation_id == actor.organisation_id))).scalar_one()
        return OrganisationOverview(staff_by_role={Role(r): int(c) for r, c in staff}, patient_count=int(patients))

    async def list_departments(self, session: AsyncSession) -> list[Department]:
        return list((await session.execute(select(Department).order_by(Department.name))).scalars().all())

