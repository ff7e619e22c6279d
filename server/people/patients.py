"""Patients: registration and access.

Only staff of an organisation with a care relation to the patient (the home municipality, a
hospital that treats them) may see them, only in a clinical role, and only with a stated reason.
Every read and write is audited.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.people.models import Organisation, Patient, PatientOrganisation
from server.people.national_id import InvalidNationalId, parse_national_id
from server.platform.actors import Actor
from server.platform.audit import AccessRecord, AuditLog, AuditRow
from server.platform.audit_reasons import AuditReason
from server.platform.clock import Clock
from server.platform.errors import NotFound, PermissionDenied, ValidationFailed
from server.platform.roles import OrganisationKind, Role

CLINICAL_ROLES = (Role.COORDINATOR, Role.SPECIALIST, Role.NURSE)
_PHONE = re.compile(r"^\+?[0-9 ]{8,15}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class PatientInput:
    given_name: str
    family_name: str
    national_id: str
    home_municipality_id: int
    address: str = ""
    phone: str = ""
    email: str = ""
    preferred_language: str = "nb"
    interpreter_needed: bool = False


class PatientService:
    """Registers patients and hands them out to staff who may see them."""

    def __init__(self, clock: Clock, audit: AuditLog) -> None:
        self._clock = clock
        self._audit = audit

    async def register(self, session: AsyncSession, actor: Actor, data: PatientInput,
                       reason: str) -> Patient:
        if not actor.has_role(*CLINICAL_ROLES):
            raise PermissionDenied("only clinical staff register patients")
        fields: dict[str, str] = {}
        if not data.given_name.strip():
            fields["given_name"] = "required"
        if not data.family_name.strip():
            fields["family_name"] = "required"
        birth: date | None = None
        try:
            birth = parse_national_id(data.national_id).birth_date
        except InvalidNationalId as exc:
            fields["national_id"] = exc.code
        if data.phone and not _PHONE.match(data.phone.strip()):
            fields["phone"] = "phone_invalid"
        if data.email and not _EMAIL.match(data.email.strip()):
            fields["email"] = "email_invalid"
        municipality = await session.get(Organisation, data.home_municipality_id)
        if municipality is None or municipality.kind != OrganisationKind.MUNICIPALITY:
            fields["home_municipality_id"] = "unknown_municipality"
        if not reason.strip():
            fields["reason"] = "reason_required"
        if fields or birth is None:
            raise ValidationFailed("the patient could not be registered", fields)
        nin = data.national_id.replace(" ", "")
        if (await session.execute(select(Patient.id).where(Patient.national_id == nin))).first():
            raise ValidationFailed("patient exists", {"national_id": "patient_exists"})
        now = self._clock.now()
        patient = Patient(
            public_id=secrets.token_urlsafe(12), given_name=data.given_name.strip(),
            family_name=data.family_name.strip(), birth_date=birth, national_id=nin,
            home_municipality_id=data.home_municipality_id, address=data.address.strip(),
            phone=data.phone.strip(), email=data.email.strip(),
            preferred_language=data.preferred_language.strip() or "nb",
            interpreter_needed=data.interpreter_needed, created_at=now,
        )
        session.add(patient)
        await session.flush()
        related = {data.home_municipality_id}
        if actor.organisation_id is not None:
            related.add(actor.organisation_id)
        for org_id in related:
            session.add(PatientOrganisation(patient_id=patient.id, organisation_id=org_id, since=now))
        await session.flush()
        await self._audit.record(session, actor, action="create", object_type="patient",
                                 object_id=patient.public_id, patient_id=patient.id, reason=reason)
        await session.refresh(patient, ["home_municipality"])
        return patient

    async def relate(self, session: AsyncSession, patient_id: int, organisation_id: int) -> None:
        """Give an organisation a care relation (e.g. the hospital a referral goes to)."""
        if await session.get(PatientOrganisation, (patient_id, organisation_id)) is None:
            session.add(PatientOrganisation(patient_id=patient_id, organisation_id=organisation_id,
                                            since=self._clock.now()))
            await session.flush()

    async def may_access(self, session: AsyncSession, actor: Actor, patient_id: int) -> bool:
        if not actor.has_role(*CLINICAL_ROLES) or actor.organisation_id is None:
            return False
        return await session.get(PatientOrganisation, (patient_id, actor.organisation_id)) is not None

    async def get(self, session: AsyncSession, actor: Actor, public_id: str, reason: str) -> Patient:
        """One patient, for an actor with access and a reason; the read is audited."""
        patient = (
            await session.execute(select(Patient).where(Patient.public_id == public_id))
        ).scalar_one_or_none()
        # Same answer for "does not exist" and "not yours": ids must not be probed.
        if patient is None or not await self.may_access(session, actor, patient.id):
            raise NotFound("no such patient")
        if not reason.strip():
            raise ValidationFailed("a reason is required", {"reason": "reason_required"})
        await self._audit.record(session, actor, action="read", object_type="patient",
                                 object_id=patient.public_id, patient_id=patient.id, reason=reason)
        return patient

    async def list_for(self, session: AsyncSession, actor: Actor) -> list[Patient]:
        """Patients related to the actor's organisation (names only are shown; the list is audited)."""
        if not actor.has_role(*CLINICAL_ROLES) or actor.organisation_id is None:
            raise PermissionDenied("no access to patients")
        rows = (
            await session.execute(
                select(Patient)
                .join(PatientOrganisation, PatientOrganisation.patient_id == Patient.id)
                .where(PatientOrganisation.organisation_id == actor.organisation_id)
                .order_by(Patient.family_name, Patient.given_name)
            )
        ).scalars().all()
        # One row per patient shown, written together (one statement, not one unit of work per name).
        await self._audit.record_many(session, [
            AuditRow(actor, action="list", object_type="patient", object_id=p.public_id, patient_id=p.id,
                     reason=AuditReason.PATIENT_LIST) for p in rows])
        return list(rows)

    async def access_log(self, session: AsyncSession, actor: Actor, public_id: str,
                         reason: str) -> tuple[Patient, list[AccessRecord]]:
        """Who looked at this patient's data; reading the log is itself logged."""
        patient = await self.get(session, actor, public_id, reason)
        return patient, await self._audit.accesses_for_patient(session, patient.id)
