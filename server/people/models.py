"""The tables of people: organisations and departments, staff, their sessions and login failures, patients."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Enum, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.platform.model_base import Base
from server.platform.roles import OrganisationKind, Role


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as the value string with a CHECK constraint: readable in SQL and portable.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(_enum(OrganisationKind, "organisation_kind"))
    # Municipality number (kommunenummer) or the trust's organisation number; optional.
    code: Mapped[str | None] = mapped_column(String(20))
    # Where the organisation is: its postal address, and the centre that travel is measured from, as a
    # place name ("Vågaholmen") and, when known, its coordinates.
    address: Mapped[str] = mapped_column(String(300), default="")
    centre_name: Mapped[str] = mapped_column(String(200), default="")
    centre_latitude: Mapped[float | None] = mapped_column(Float)
    centre_longitude: Mapped[float | None] = mapped_column(Float)
    departments: Mapped[list[Department]] = relationship(back_populates="organisation", lazy="selectin")


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("organisation_id", "name", name="uq_departments_org_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[Organisation] = relationship(back_populates="departments", lazy="joined")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    # A code from server.people.professions.Profession, or "" for staff outside those professions.
    profession: Mapped[str] = mapped_column(String(80), default="")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(512))
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last 30-second step whose code was accepted: a code is good for one login only.
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # False once deactivated: no login, gone from choosers; the row stays so history keeps the name.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by a password reset: the temporary password only opens the page to choose a new one.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(5), default="nb")
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime]

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")


class MunicipalityTravel(Base):
    """How people from a municipality usually travel to one hospital: what a video consultation saves."""

    __tablename__ = "municipality_travel"
    __table_args__ = (UniqueConstraint("municipality_id", "hospital_id", name="uq_municipality_travel_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    hospital_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    distance_km: Mapped[float] = mapped_column(Float)
    # Door to door one way, ferry and waiting included.
    travel_minutes: Mapped[int] = mapped_column(Integer)
    # A code from server.people.travel.Transport.
    transport: Mapped[str] = mapped_column(String(32))
    ferry: Mapped[bool] = mapped_column(Boolean, default=False)
    ferry_minutes: Mapped[int | None] = mapped_column(Integer)

    municipality: Mapped[Organisation] = relationship(foreign_keys=[municipality_id], lazy="joined")
    hospital: Mapped[Organisation] = relationship(foreign_keys=[hospital_id], lazy="joined")


class LoginFailure(Base):
    """One failed login; counted per account per hour to stop guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[datetime]


class WebSession(Base):
    """A browser session; only the hash of its token is stored."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    # False until the second factor is given; such a session can only finish logging in.
    second_factor_done: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(5), default="nb")
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Public identifier used in URLs; the national identity number never goes in a URL.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    given_name: Mapped[str] = mapped_column(String(120))
    family_name: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date] = mapped_column(Date)
    national_id: Mapped[str] = mapped_column(String(11), unique=True)
    home_municipality_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    preferred_language: Mapped[str] = mapped_column(String(40), default="nb")
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]

    home_municipality: Mapped[Organisation] = relationship(lazy="joined")

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class PatientOrganisation(Base):
    """Organisations with a care relation to the patient (home municipality, treating hospital)."""

    __tablename__ = "patient_organisations"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime]
