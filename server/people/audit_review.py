"""The administrator's view of the audit log: its entries, filtered and a page at a time.

Filters: a patient (by national identity number, typed: the administrator has no patient list), a
staff user, an action and a span of Oslo dates. Newest first, ``PAGE_SIZE`` rows a page; a page is
the rows older than a sequence number, so rows written while someone reads (this page writes some
itself) never shift what the next page shows. Patients are
shown by name and the birth-date part of their number, and that is itself an access: one row per
patient shown on the page is audited ("list" of their access log, reason "audit review"), so a
patient's own report shows that an administrator has looked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.people.access_report import OBJECT_TYPE, mask_national_id
from server.people.models import Patient, User
from server.platform.actors import Actor
from server.platform.audit import AuditLog, AuditRow
from server.platform.audit_models import AuditEntry
from server.platform.audit_reasons import AuditReason
from server.platform.errors import PermissionDenied, ValidationFailed
from server.platform.local_time import OSLO
from server.platform.roles import Role

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    """What to show; empty fields filter nothing."""

    national_id: str = ""
    user_id: int | None = None
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    """Inclusive: the whole of that Oslo day."""


@dataclass(frozen=True)
class ShownPatient:
    name: str
    masked_national_id: str


@dataclass(frozen=True)
class AuditPage:
    """One page of entries, newest first, with the patients they name."""

    entries: list[AuditEntry]
    patients: dict[int, ShownPatient]
    total: int
    """All rows that match the filter."""
    first: int
    """The position of the page's first row among them, from 1 (newest)."""
    older: int | None
    """The sequence number to ask for the next page with, None on the last page."""

    @property
    def last(self) -> int:
        return self.first + len(self.entries) - 1


class AuditReview:
    """Lists audit entries for administrators; what they see of patients is audited."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    async def users(self, session: AsyncSession, actor: Actor) -> list[User]:
        """The staff users to filter by, by name."""
        _require_admin(actor)
        return list((await session.execute(select(User).order_by(User.display_name, User.id))).scalars())

    async def page(self, session: AsyncSession, actor: Actor, wanted: AuditFilter,
                   before: int | None = None) -> AuditPage:
        """The newest ``PAGE_SIZE`` entries matching ``wanted`` that are older than row ``before`` (all
        when None). ``ValidationFailed`` for an unknown
        national identity number (``patient_unknown``) or dates the wrong way round (``dates_reversed``)."""
        _require_admin(actor)
        conditions = []
        if wanted.national_id.strip():
            nin = "".join(wanted.national_id.split())
            patient_id = (await session.execute(
                select(Patient.id).where(Patient.national_id == nin))).scalar_one_or_none()
            if patient_id is None:
                raise ValidationFailed("no patient has this number", {"patient": "patient_unknown"})
            conditions.append(AuditEntry.patient_id == patient_id)
        if wanted.user_id is not None:
            conditions.append(AuditEntry.actor_kind == "staff")
            conditions.append(AuditEntry.actor_id == f"user:{wanted.user_id}")
        if wanted.action:
            conditions.append(AuditEntry.action == wanted.action)
        if wanted.date_from and wanted.date_to and wanted.date_to < wanted.date_from:
            raise ValidationFailed("the dates are the wrong way round", {"date_to": "dates_reversed"})
        if wanted.date_from:
            conditions.append(AuditEntry.at >= datetime.combine(wanted.date_from, time(0), tzinfo=OSLO))
        if wanted.date_to:
            conditions.append(AuditEntry.at < datetime.combine(wanted.date_to + timedelta(days=1), time(0),
                                                               tzinfo=OSLO))
        total = int((await session.execute(
            select(func.count()).select_from(AuditEntry).where(*conditions))).scalar_one())
        newer = 0
        if before is not None:
            newer = int((await session.execute(select(func.count()).select_from(AuditEntry).where(
                *conditions, AuditEntry.seq >= before))).scalar_one())
            conditions.append(AuditEntry.seq < before)
        rows = list((await session.execute(
            select(AuditEntry).where(*conditions).order_by(AuditEntry.seq.desc())
            .limit(PAGE_SIZE + 1))).scalars())
        entries = rows[:PAGE_SIZE]
        older = entries[-1].seq if len(rows) > PAGE_SIZE else None
        patient_ids = {e.patient_id for e in entries if e.patient_id is not None}
        patients: dict[int, ShownPatient] = {}
        if patient_ids:
            for p in (await session.execute(select(Patient).where(Patient.id.in_(patient_ids)))).scalars():
                patients[p.id] = ShownPatient(p.full_name, mask_national_id(p.national_id))
            await self._audit.record_many(session, [
                AuditRow(actor, action="list", object_type=OBJECT_TYPE, object_id=public_id, patient_id=pid,
                         reason=AuditReason.AUDIT_REVIEW)
                for pid, public_id in (await session.execute(
                    select(Patient.id, Patient.public_id).where(Patient.id.in_(patient_ids))
                    .order_by(Patient.id))).all()])
        return AuditPage(entries, patients, total, newer + 1, older)


def _require_admin(actor: Actor) -> None:
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("only administrators read the audit log")
