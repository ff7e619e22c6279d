"""Who accessed a patient's information: the report the patient has a right to (pasientjournalloven § 22).

Built from the audit log, for one patient and a period (the last 12 months unless another is
chosen). Each line says when (in Oslo time), who (name, profession or role, organisation; never an
internal id), what (the patient record, the joint note, the booking, the video consultation ...) and
why (the reason the person stated, or the context of the access as a code the reader's catalogue
names). Rows of one person doing the same kind of thing for the same reason on one day, with less
than an hour between them, are one line: a consultation writes a row for every chat message.

Who may read it: staff with access to the patient (the same care relation and clinical role the
staff access log asks for), and the patient in their own guest session. Every reading is itself
audited. Visits by the patient themself are left out: they are not someone else looking.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.people.models import Patient, User
from server.people.patients import PatientService
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.audit_models import AuditEntry
from server.platform.audit_reasons import AuditReason, context_reason
from server.platform.clock import Clock
from server.platform.errors import NotFound, ValidationFailed
from server.platform.local_time import OSLO

OBJECT_TYPE = "access_log"
PERIOD_MONTHS = (1, 3, 6, 12, 24, 36)
"""The periods a reader may choose, in months back from now."""
DEFAULT_PERIOD_MONTHS = 12
GROUP_GAP = timedelta(hours=1)
"""Rows further apart than this start a new line, even for the same person, object and reason."""
MAX_ROWS = 50_000
"""Rows read for one report; beyond this the report says it shows only the newest."""
PATIENT_GUEST_ROLE = "patient"
"""The role of a guest whose join code was issued to the patient themself."""


@dataclass(frozen=True)
class Period:
    """The span a report covers: ``[start, end)``, chosen as a number of months back from ``end``."""

    months: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Accessor:
    """Who accessed: what the law asks to be shown, and nothing that identifies them internally."""

    kind: str
    """``staff``, ``guest``, ``system`` or ``feed``."""
    name: str
    role: str
    """A role code (staff account role or the part a guest played); the reader's catalogue names it."""
    profession: str
    """The staff member's profession as their organisation registered it ("lege"); empty for others."""
    organisation: str


@dataclass(frozen=True)
class AccessGroup:
    """One line of the report: one person, one kind of object, one reason, close together in time."""

    first_at: datetime
    last_at: datetime
    who: Accessor
    object_type: str
    actions: tuple[tuple[str, int], ...]
    """Action codes and how often each happened, in the order they first happened."""
    reason: AuditReason | None
    """The context as a code, or None when a person stated the reason (then ``stated_reason``)."""
    stated_reason: str = ""

    @property
    def count(self) -> int:
        return sum(n for _, n in self.actions)


@dataclass(frozen=True)
class ReportDay:
    """The lines of one day (Oslo date), newest first."""

    day: date
    groups: tuple[AccessGroup, ...]


@dataclass(frozen=True)
class AccessReport:
    """Who accessed one patient's information over a period, newest first."""

    patient_name: str
    birth_date: date
    masked_national_id: str
    period: Period
    days: tuple[ReportDay, ...]
    accesses: int
    """Audit rows behind the lines."""
    truncated: bool
    """More rows than ``MAX_ROWS`` in the period: only the newest are in the report."""

    @property
    def groups(self) -> tuple[AccessGroup, ...]:
        return tuple(g for d in self.days for g in d.groups)


@dataclass(frozen=True)
class LoggedAccess:
    """One audit row, as much of it as the report reads."""

    at: datetime
    actor_kind: str
    actor_id: str
    actor_name: str
    role: str
    organisation: str
    object_type: str
    action: str
    reason: str


def months_back(end: datetime, months: int) -> datetime:
    """The same Oslo wall-clock time ``months`` calendar months before ``end`` (the 31st becomes the
    month's last day)."""
    local = end.astimezone(OSLO)
    index = local.year * 12 + (local.month - 1) - months
    year, month = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day, fold=0).astimezone(end.tzinfo)


def period_of(now: datetime, months: int = DEFAULT_PERIOD_MONTHS) -> Period:
    """The period of ``months`` months up to ``now``; only the choices in ``PERIOD_MONTHS`` are taken."""
    if months not in PERIOD_MONTHS:
        raise ValidationFailed("choose one of the periods offered", {"months": "period_unknown"})
    return Period(months, months_back(now, months), now)


def mask_national_id(national_id: str) -> str:
    """The birth date part (the first six digits) and the rest hidden: "140338 *****"."""
    return f"{national_id[:6]} {'*' * max(0, len(national_id) - 6)}".strip()


@dataclass
class _Line:
    key: tuple[object, ...]
    first_at: datetime
    last_at: datetime
    who: Accessor
    object_type: str
    reason: AuditReason | None
    stated_reason: str
    actions: dict[str, int] = field(default_factory=dict)

    def freeze(self) -> AccessGroup:
        # Counted newest first; shown in the order they happened.
        return AccessGroup(self.first_at, self.last_at, self.who, self.object_type,
                           tuple(reversed(list(self.actions.items()))), self.reason, self.stated_reason)


def group_accesses(rows: list[LoggedAccess], professions: dict[str, str] | None = None,
                   *, gap: timedelta = GROUP_GAP) -> tuple[ReportDay, ...]:
    """Lines of the report from audit rows given newest first; days and lines newest first.

    Rows of the same person (by their internal id, which goes no further), the same kind of object
    and the same reason on the same Oslo day join one line as long as no more than ``gap`` lies
    between one and the next.
    """
    professions = professions or {}
    open_lines: dict[tuple[object, ...], _Line] = {}
    closed: list[_Line] = []
    for row in rows:
        code = context_reason(row.object_type, row.reason)
        stated = "" if code is not None else row.reason.strip()
        day = row.at.astimezone(OSLO).date()
        key = (day, row.actor_kind, row.actor_id, row.role, row.object_type, code, stated)
        line = open_lines.get(key)
        if line is None or line.first_at - row.at > gap:
            if line is not None:
                closed.append(line)
            who = Accessor(kind=row.actor_kind, name=row.actor_name, role=row.role,
                           profession=professions.get(row.actor_id, ""), organisation=row.organisation)
            line = _Line(key, row.at, row.at, who, row.object_type, code, stated)
            open_lines[key] = line
        line.first_at = min(line.first_at, row.at)
        line.last_at = max(line.last_at, row.at)
        line.actions[row.action] = line.actions.get(row.action, 0) + 1
    lines = sorted([*closed, *open_lines.values()], key=lambda line: line.last_at, reverse=True)
    days: dict[date, list[AccessGroup]] = {}
    for line in lines:
        days.setdefault(line.last_at.astimezone(OSLO).date(), []).append(line.freeze())
    return tuple(ReportDay(day, tuple(groups)) for day, groups in days.items())


class AccessReportService:
    """Builds the report of who accessed a patient's information, for staff and for the patient."""

    def __init__(self, clock: Clock, audit: AuditLog, patients: PatientService) -> None:
        self._clock = clock
        self._audit = audit
        self._patients = patients

    def period(self, months: int = DEFAULT_PERIOD_MONTHS) -> Period:
        """The period of ``months`` months up to now; ``ValidationFailed`` for a choice not offered."""
        return period_of(self._clock.now(), months)

    async def for_staff(self, session: AsyncSession, actor: Actor, public_id: str, period: Period, *,
                        reason: str, action: str = "read") -> AccessReport:
        """The report for staff with access to the patient (care relation, clinical role, a reason).

        "Not yours" and "does not exist" are the same ``NotFound``, as for the patient record. The
        reading is audited with ``reason``; ``action`` is ``print`` when it is printed for the patient.
        """
        patient = (await session.execute(select(Patient).where(Patient.public_id == public_id))).scalar_one_or_none()
        if patient is None or not await self._patients.may_access(session, actor, patient.id):
            raise NotFound("no such patient")
        if not reason.strip():
            raise ValidationFailed("a reason is required", {"reason": "reason_required"})
        await self._audit.record(session, actor, action=action, object_type=OBJECT_TYPE,
                                 object_id=patient.public_id, patient_id=patient.id, reason=reason.strip()[:300])
        return await self._report(session, patient, period)

    async def for_patient(self, session: AsyncSession, actor: Actor, patient_id: int,
                          period: Period) -> AccessReport:
        """The report for the patient themself, in the guest session of their own join code.

        The caller has established that the guest takes part in a consultation about ``patient_id``;
        anyone but the patient (a relative, an interpreter, staff) gets ``NotFound``.
        """
        if actor.kind != "guest" or actor.role != PATIENT_GUEST_ROLE:
            raise NotFound("no access report for this session")
        patient = await session.get(Patient, patient_id)
        if patient is None:
            raise NotFound("no such patient")
        await self._audit.record(session, actor, action="read", object_type=OBJECT_TYPE,
                                 object_id=patient.public_id, patient_id=patient.id,
                                 reason=AuditReason.PATIENT_OWN_ACCESS_LOG)
        return await self._report(session, patient, period)

    async def _report(self, session: AsyncSession, patient: Patient, period: Period) -> AccessReport:
        # Up to now, not to when the period was chosen: the row of this very reading is in the report.
        period = Period(period.months, period.start, max(period.end, self._clock.now()))
        entries = (await session.execute(
            select(AuditEntry.at, AuditEntry.actor_kind, AuditEntry.actor_id, AuditEntry.actor_name,
                   AuditEntry.role, AuditEntry.organisation, AuditEntry.object_type, AuditEntry.action,
                   AuditEntry.reason)
            .where(AuditEntry.patient_id == patient.id, AuditEntry.at >= period.start,
                   AuditEntry.at <= period.end,
                   not_(and_(AuditEntry.actor_kind == "guest", AuditEntry.role == PATIENT_GUEST_ROLE)))
            .order_by(AuditEntry.seq.desc())
            .limit(MAX_ROWS + 1))).all()
        truncated = len(entries) > MAX_ROWS
        rows = [LoggedAccess(*entry) for entry in entries[:MAX_ROWS]]
        return AccessReport(
            patient_name=patient.full_name, birth_date=patient.birth_date,
            masked_national_id=mask_national_id(patient.national_id), period=period,
            days=group_accesses(rows, await self._professions(session, rows)), accesses=len(rows),
            truncated=truncated)

    async def _professions(self, session: AsyncSession, rows: list[LoggedAccess]) -> dict[str, str]:
        """Each staff member's registered profession, by their actor id (``user:<id>``)."""
        ids = {int(r.actor_id.removeprefix("user:")) for r in rows
               if r.actor_kind == "staff" and r.actor_id.removeprefix("user:").isdigit()}
        if not ids:
            return {}
        found = (await session.execute(select(User.id, User.profession).where(User.id.in_(ids)))).all()
        return {f"user:{uid}": profession for uid, profession in found if profession}
