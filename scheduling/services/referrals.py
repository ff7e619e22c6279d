"""Referrals (requests for a joint consultation) and the coordinators' queue.

The queue is ordered by urgency first (within a day, a week, four weeks) and then by how long the
referral has waited, oldest first; each entry carries its due time so the response time is visible
while it runs. Every read and write is audited with the patient's id; the queue with one row per
patient in it, written together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import ConsultationType, Referral, ReferralStatus, Urgency
from scheduling.services.common import CLINICAL_ROLES, new_public_id, require_roles
from scheduling.services.views import QueueEntry, ReferralInput, ReferralView
from server.people.models import Organisation, Patient, PatientOrganisation, User
from server.people.patients import PatientService
from server.platform.actors import Actor
from server.platform.audit import AuditLog, AuditRow
from server.platform.audit_reasons import AuditReason
from server.platform.clock import Clock
from server.platform.errors import Conflict, NotFound, ValidationFailed

RESPONSE_TARGET: dict[Urgency, timedelta] = {
    Urgency.DAY: timedelta(days=1),
    Urgency.WEEK: timedelta(days=7),
    Urgency.FOUR_WEEKS: timedelta(days=28),
}
_RANK = {Urgency.DAY: 0, Urgency.WEEK: 1, Urgency.FOUR_WEEKS: 2}
MAX_TEXT = 4000


class ReferralService:
    """Creates referrals, shows the queue and single referrals, closes them."""

    def __init__(self, clock: Clock, audit: AuditLog, patients: PatientService | None = None) -> None:
        self._clock = clock
        self._audit = audit
        self._patients = patients or PatientService(clock, audit)

    async def create(self, session: AsyncSession, actor: Actor, data: ReferralInput) -> ReferralView:
        """Refer a patient the actor has access to; the referring organisation is the actor's."""
        require_roles(actor, *CLINICAL_ROLES, what="refer patients")
        fields: dict[str, str] = {}
        if not data.reason.strip():
            fields["reason"] = "required"
        for name in ("reason", "what_matters", "wished_participants"):
            if len(getattr(data, name)) > MAX_TEXT:
                fields[name] = "too_long"
        if data.travel_hours is not None and not 0 <= data.travel_hours <= 48:
            fields["travel_hours"] = "out_of_range"
        if data.consultation_type_id is not None and await session.get(
                ConsultationType, data.consultation_type_id) is None:
            fields["consultation_type_id"] = "unknown"
        patient = (await session.execute(select(Patient).where(
            Patient.public_id == data.patient_public_id))).scalar_one_or_none()
        if patient is None or not await self._patients.may_access(session, actor, patient.id):
            fields["patient_public_id"] = "unknown_patient"
        if fields or patient is None or actor.organisation_id is None:
            raise ValidationFailed("the referral could not be created", fields)
        referral = Referral(
            public_id=new_public_id(), patient_id=patient.id, reason=data.reason.strip(), urgency=data.urgency,
            what_matters=data.what_matters.strip(), wished_participants=data.wished_participants.strip(),
            consultation_type_id=data.consultation_type_id, referred_by_user_id=actor.user_id,
            referring_organisation_id=actor.organisation_id, otherwise_hospital=data.otherwise_hospital.strip(),
            travel_hours=data.travel_hours, escort_needed=data.escort_needed,
            nurse_would_travel=data.nurse_would_travel, status=ReferralStatus.OPEN, created_at=self._clock.now(),
            responded_at=None, closed_reason="",
        )
        session.add(referral)
        await session.flush()
        await self._audit.record(session, actor, action="create", object_type="referral",
                                 object_id=referral.public_id, patient_id=patient.id)
        return await self._view(session, referral)

    async def queue(self, session: AsyncSession, actor: Actor) -> list[QueueEntry]:
        """Open referrals of patients the actor's organisation cares for, most urgent and oldest first."""
        require_roles(actor, *CLINICAL_ROLES, what="see the referral queue")
        rank = case({u.value: r for u, r in _RANK.items()}, value=Referral.urgency)
        rows = (await session.execute(
            select(Referral)
            .join(PatientOrganisation, PatientOrganisation.patient_id == Referral.patient_id)
            .where(Referral.status == ReferralStatus.OPEN,
                   PatientOrganisation.organisation_id == actor.organisation_id)
            .order_by(rank, Referral.created_at, Referral.id))).scalars().all()
        # One audit row per patient in the queue (their oldest open referral names the view), written
        # together, and the names read in one query each: 350 referrals used to cost 350 rows.
        first_per_patient: dict[int, Referral] = {}
        for referral in rows:
            first_per_patient.setdefault(referral.patient_id, referral)
        await self._audit.record_many(session, [
            AuditRow(actor, action="list", object_type="referral", object_id=r.public_id,
                     patient_id=r.patient_id, reason=AuditReason.REFERRAL_QUEUE)
            for r in first_per_patient.values()])
        now = self._clock.now()
        return [QueueEntry(referral=view, waited=now - view.created_at, remaining=view.due_at - now)
                for view in await self._views(session, rows)]

    async def get(self, session: AsyncSession, actor: Actor, public_id: str, reason: str = "") -> ReferralView:
        """One referral, audited."""
        referral = await self._accessible(session, actor, public_id)
        await self._audit.record(session, actor, action="read", object_type="referral",
                                 object_id=referral.public_id, patient_id=referral.patient_id, reason=reason)
        return await self._view(session, referral)

    async def close(self, session: AsyncSession, actor: Actor, public_id: str, reason: str) -> ReferralView:
        """Close an open referral without booking (withdrawn, solved otherwise), with a reason."""
        if not reason.strip():
            raise ValidationFailed("a reason is required", {"reason": "reason_required"})
        referral = await self._accessible(session, actor, public_id)
        if referral.status is ReferralStatus.CLOSED:
            raise Conflict("the referral is already closed", code="referral_closed")
        referral.status = ReferralStatus.CLOSED
        referral.closed_reason = reason.strip()[:500]
        if referral.responded_at is None:
            referral.responded_at = self._clock.now()
        await session.flush()
        await self._audit.record(session, actor, action="close", object_type="referral",
                                 object_id=referral.public_id, patient_id=referral.patient_id, reason=reason)
        return await self._view(session, referral)

    async def _accessible(self, session: AsyncSession, actor: Actor, public_id: str) -> Referral:
        require_roles(actor, *CLINICAL_ROLES, what="see referrals")
        referral = (await session.execute(select(Referral).where(
            Referral.public_id == public_id))).scalar_one_or_none()
        if referral is None or not await self._patients.may_access(session, actor, referral.patient_id):
            raise NotFound("no such referral")
        return referral

    async def _view(self, session: AsyncSession, r: Referral) -> ReferralView:
        return (await self._views(session, [r]))[0]

    async def _views(self, session: AsyncSession, referrals: Sequence[Referral]) -> list[ReferralView]:
        """Views of many referrals: patients, organisations and referring users each in one query."""
        if not referrals:
            return []
        patients = {p.id: p for p in (await session.execute(
            select(Patient).where(Patient.id.in_({r.patient_id for r in referrals})))).scalars()}
        orgs = {o.id: o for o in (await session.execute(
            select(Organisation).where(Organisation.id.in_({r.referring_organisation_id for r in referrals}))
        )).scalars()}
        user_ids = {r.referred_by_user_id for r in referrals if r.referred_by_user_id}
        users = {u.id: u for u in (await session.execute(
            select(User).where(User.id.in_(user_ids)))).scalars()} if user_ids else {}
        views = []
        for r in referrals:
            patient = patients.get(r.patient_id)
            org = orgs.get(r.referring_organisation_id)
            user = users.get(r.referred_by_user_id) if r.referred_by_user_id else None
            if patient is None:
                raise NotFound("no such patient")
            views.append(ReferralView(
                public_id=r.public_id, patient_id=patient.id, patient_public_id=patient.public_id,
                patient_name=patient.full_name, reason=r.reason, urgency=r.urgency, what_matters=r.what_matters,
                wished_participants=r.wished_participants, consultation_type_id=r.consultation_type_id,
                referred_by_name=user.display_name if user else "",
                referring_organisation_name=org.name if org else "",
                otherwise_hospital=r.otherwise_hospital, travel_hours=r.travel_hours, status=r.status,
                created_at=r.created_at, responded_at=r.responded_at,
                due_at=r.created_at + RESPONSE_TARGET[r.urgency],
                escort_needed=r.escort_needed, nurse_would_travel=r.nurse_would_travel,
            ))
        return views
