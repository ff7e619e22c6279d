"""Bookings: book a slot, reschedule, cancel, change status, read; day lists and resource calendars.

No double booking, ever, on two lines of defence:

1. inside the booking transaction the slot is checked again with :func:`scheduling.slot_search.check_slot`
   against freshly loaded reservations and imported busy times. On SQLite the transaction began with
   ``BEGIN IMMEDIATE`` (``db.session(write_lock=True)``, enforced by :func:`require_write_lock`), so no
   other writer can slip in between the check and the insert;
2. on PostgreSQL the exclusion constraint ``ex_sched_reservations_no_overlap`` refuses an overlapping
   active reservation even when two transactions both passed the check; its violation (SQLSTATE 23P01)
   becomes the same ``Conflict`` with code ``slot_taken``.

Every read and write of a booking is audited with the patient's id, in the same unit of work; a list
(day list, calendar) audits one row per patient it shows, all written at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, Select, and_, null, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.availability import zone
from scheduling.booking_rules import CANCEL_REASON_MAX, TRANSITIONS, may_cancel, may_reschedule
from scheduling.errors import InvalidInterval, InvalidSearch, SlotUnavailable
from scheduling.intervals import Interval
from scheduling.models import (
    Booking,
    BookingStatus,
    ConsultationOutcome,
    ConsultationType,
    Referral,
    ReferralStatus,
    RequirementKind,
    Reservation,
    Resource,
    ResourceKind,
)
from scheduling.outbox import DeliverySummary
from scheduling.outcomes import decode_follow_up
from scheduling.participation import bookings_of_user, user_takes_part
from scheduling.services.common import CLINICAL_ROLES, new_public_id, require_roles, require_write_lock
from scheduling.services.idempotency import IdempotencyKeys, request_hash
from scheduling.services.notifications import Notifier, booking_uid
from scheduling.services.slots import SlotService
from scheduling.services.views import BookingView, BookRequest, OutcomeView, ParticipantView, RescheduleRequest
from scheduling.slot_search import Slot, check_slot
from server.people.models import Patient, PatientOrganisation, User
from server.people.patients import PatientService
from server.platform.actors import Actor
from server.platform.audit import AuditLog, AuditRow
from server.platform.clock import Clock
from server.platform.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from server.platform.local_time import OSLO_TZ_NAME

log = logging.getLogger(__name__)

EXCLUSION_VIOLATION = "23P01"



def _is_exclusion_violation(exc: IntegrityError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == EXCLUSION_VIOLATION


def _unavailable(exc: SlotUnavailable) -> Conflict:
    # "slot_taken": someone else has it now; "slot_unavailable": hours, notice or window rule it out
    code = "slot_taken" if exc.code in {"slot.busy", "slot.same_resource"} else "slot_unavailable"
    return Conflict(exc.message, code=code)


class BookingService:
    """Books, moves and cancels consultations; reads them for staff with access, audited."""

    def __init__(self, clock: Clock, audit: AuditLog, slots: SlotService, notifier: Notifier,
                 patients: PatientService | None = None) -> None:
        self._clock = clock
        self._audit = audit
        self._slots = slots
        self._notifier = notifier
        self._patients = patients or PatientService(clock, audit)
        self._idempotency = IdempotencyKeys(clock)

    # ------------------------------------------------------------------------------------ book

    async def book(self, session: AsyncSession, actor: Actor, data: BookRequest, *,
                   idempotency_key: str | None = None) -> BookingView:
        """Book a slot in one transaction: booking, one reservation per resource, invites, audit.

        Run in ``db.session(write_lock=True)``. Raises ``Conflict`` (``slot_taken``,
        ``slot_unavailable``, ``idempotency_key_reused``, ``referral_not_open``), ``ValidationFailed``,
        ``NotFound`` or ``PermissionDenied``. A replay of the same ``idempotency_key`` and request returns
        the first answer with ``replayed=True`` and books nothing.
        """
        await require_write_lock(session)
        require_roles(actor, *CLINICAL_ROLES, what="book consultations")
        req_hash = request_hash(_request_payload(data))
        if idempotency_key is not None:
            stored = await self._idempotency.claim(session, actor, idempotency_key, req_hash)
            if stored is not None:
                booking = await self._booking(session, json.loads(stored.body)["booking"])
                await self._audit_booking(session, actor, booking, "read", "idempotent replay")
                return await self._view(session, booking, replayed=True)

        patient, referral = await self._patient_and_referral(session, actor, data)
        ctype = await self._slots.consultation_type(session, data.consultation_type_id)
        municipality = data.municipality_id or patient.home_municipality_id
        chosen = dict(data.chosen)
        if len(chosen) != len(data.chosen):
            raise ValidationFailed("a requirement was given twice", {"chosen": "duplicate"})
        slot = await self._check(session, ctype, municipality, data.start, chosen, exclude_booking_id=None)

        now = self._clock.now()
        public_id = new_public_id()
        booking = Booking(
            public_id=public_id, referral_id=referral.id if referral else None, patient_id=patient.id,
            consultation_type_id=ctype.id, start=slot.start, end=slot.end, status=BookingStatus.BOOKED,
            cancel_reason="", sequence=0, ical_uid=booking_uid(public_id, self._notifier.settings),
            patient_at_home=any(r.kind is RequirementKind.PATIENT_HOME for r in ctype.requirements),
            created_by_user_id=actor.user_id, created_at=now, updated_at=now, reminder_queued_at=None,
            reservations=[
                Reservation(resource_id=int(a.resource_id), requirement_key=a.requirement, position=i,
                            blocked_start=slot.blocked.start, blocked_end=slot.blocked.end, active=True)
                for i, a in enumerate(slot.assignments)
            ],
        )
        session.add(booking)
        await self._flush_reservations(session)
        if referral is not None:
            referral.status = ReferralStatus.BOOKED
            if referral.responded_at is None:
                referral.responded_at = now  # the response time the benefits report counts
        await self._audit_booking(session, actor, booking, "create")
        await self._notifier.booking_changed(session, booking, purpose="booked")
        if idempotency_key is not None:
            await self._idempotency.store(session, actor, idempotency_key, req_hash, 201,
                                          json.dumps({"booking": public_id}))
        return await self._view(session, booking)

    async def _flush_reservations(self, session: AsyncSession) -> None:
        try:
            await session.flush()
        except IntegrityError as exc:
            if _is_exclusion_violation(exc):
                # another transaction got there between our check and our insert (PostgreSQL only)
                raise Conflict("the time was just taken", code="slot_taken") from exc
            raise

    async def _check(self, session: AsyncSession, ctype: ConsultationType, municipality_id: int,
                     start: datetime, chosen: Mapping[str, int], *, exclude_booking_id: int | None
                     ) -> Slot:
        resolved = await self._slots.resolve(session, ctype, municipality_id)
        duration = timedelta(minutes=ctype.duration_minutes)
        try:
            window = Interval(start, start + duration)
        except InvalidInterval as exc:
            raise ValidationFailed.for_field("start", exc) from exc
        query = self._slots.query_for(ctype, resolved, window, limit=1)
        if set(chosen) != {r.key for r in resolved}:
            raise ValidationFailed("choose a resource for every part", {"chosen": "incomplete"})
        calendars = await self._slots.load_calendars(
            session, {c for r in resolved for c in r.candidates} | set(chosen.values()), window,
            exclude_booking_id=exclude_booking_id)
        try:
            slot = check_slot(query, calendars, start=window.start,
                              chosen={k: str(v) for k, v in chosen.items()}, now=self._clock.now())
        except SlotUnavailable as exc:
            raise _unavailable(exc) from exc
        except InvalidSearch as exc:
            raise ValidationFailed.for_field("chosen", exc) from exc
        return slot

    async def _patient_and_referral(self, session: AsyncSession, actor: Actor,
                                    data: BookRequest) -> tuple[Patient, Referral | None]:
        referral: Referral | None = None
        if data.referral_public_id:
            referral = (await session.execute(select(Referral).where(
                Referral.public_id == data.referral_public_id))).scalar_one_or_none()
            if referral is None or not await self._patients.may_access(session, actor, referral.patient_id):
                raise NotFound("no such referral")
            if referral.status is not ReferralStatus.OPEN:
                raise Conflict("the referral is not open", code="referral_not_open")
            patient = await session.get(Patient, referral.patient_id)
        elif data.patient_public_id:
            patient = (await session.execute(select(Patient).where(
                Patient.public_id == data.patient_public_id))).scalar_one_or_none()
        else:
            raise ValidationFailed("a referral or a patient is required", {"referral_public_id": "required"})
        if patient is None or not await self._patients.may_access(session, actor, patient.id):
            raise NotFound("no such patient")
        return patient, referral

    # ------------------------------------------------------------------------- change a booking

    async def reschedule(self, session: AsyncSession, actor: Actor, public_id: str,
                         data: RescheduleRequest) -> BookingView:
        """Move a booked consultation (same UID, SEQUENCE + 1) and send updated invites.

        Run in ``db.session(write_lock=True)``. Conflicts as for :meth:`book`, plus ``not_booked``.
        """
        await require_write_lock(session)
        require_roles(actor, *CLINICAL_ROLES, what="reschedule consultations")
        booking = await self._accessible(session, actor, public_id)
        if not may_reschedule(booking.status):
            raise Conflict("only a booked consultation can be moved", code="not_booked")
        ctype = await self._slots.consultation_type(session, booking.consultation_type_id)
        current = {r.requirement_key: r.resource_id for r in booking.reservations}
        chosen = dict(data.chosen) if data.chosen is not None else current
        municipality = await self._municipality_of(session, booking, chosen)
        slot = await self._check(session, ctype, municipality, data.start, chosen,
                                 exclude_booking_id=booking.id)
        # updated in place: the exclusion constraint compares the new range with other bookings only
        by_key = {a.requirement: int(a.resource_id) for a in slot.assignments}
        for reservation in booking.reservations:
            reservation.resource_id = by_key[reservation.requirement_key]
            reservation.blocked_start = slot.blocked.start
            reservation.blocked_end = slot.blocked.end
        booking.start, booking.end = slot.start, slot.end
        booking.sequence += 1
        booking.updated_at = self._clock.now()
        booking.reminder_queued_at = None
        await self._flush_reservations(session)
        await self._audit_booking(session, actor, booking, "reschedule")
        await self._notifier.booking_changed(session, booking, purpose="rescheduled")
        return await self._view(session, booking)

    async def _municipality_of(self, session: AsyncSession, booking: Booking, chosen: Mapping[str, int]) -> int:
        # the municipality of the chosen room, else the patient's home: where the consultation takes place
        for rid in chosen.values():
            resource = await session.get(Resource, rid)
            if resource is not None and resource.kind is ResourceKind.HEALTH_ROOM and resource.municipality_id:
                return resource.municipality_id
        patient = await session.get(Patient, booking.patient_id)
        if patient is None:
            raise NotFound("no such patient")
        return patient.home_municipality_id

    async def cancel(self, session: AsyncSession, actor: Actor, public_id: str, reason: str) -> BookingView:
        """Cancel with a reason: frees the reservations, SEQUENCE + 1, CANCEL to every participant.

        The reason is required and at most :data:`CANCEL_REASON_MAX` characters (``ValidationFailed``
        on ``reason``: ``cancel_reason_required``, ``cancel_reason_too_long``).

        The referral, if any, goes back to the queue (its first response time is kept).
        """
        require_roles(actor, *CLINICAL_ROLES, what="cancel consultations")
        reason = reason.strip()
        if not reason:
            raise ValidationFailed("a reason is required", {"reason": "cancel_reason_required"})
        if len(reason) > CANCEL_REASON_MAX:
            # refused rather than cut: nothing a person wrote is shortened behind their back
            raise ValidationFailed(f"the reason is longer than {CANCEL_REASON_MAX} characters",
                                   {"reason": "cancel_reason_too_long"})
        booking = await self._accessible(session, actor, public_id)
        if not may_cancel(booking.status):
            raise Conflict("this consultation can no longer be cancelled", code="not_cancellable")
        booking.status = BookingStatus.CANCELLED
        booking.cancel_reason = reason
        booking.sequence += 1
        booking.updated_at = self._clock.now()
        for reservation in booking.reservations:
            reservation.active = False
        if booking.referral_id is not None:
            referral = await session.get(Referral, booking.referral_id)
            if referral is not None and referral.status is ReferralStatus.BOOKED:
                referral.status = ReferralStatus.OPEN
        await session.flush()
        await self._audit_booking(session, actor, booking, "cancel", reason)
        await self._notifier.booking_changed(session, booking, purpose="cancelled")
        return await self._view(session, booking)

    async def set_status(self, session: AsyncSession, actor: Actor, public_id: str,
                         status: BookingStatus) -> BookingView:
        """Arrived, in progress, completed or no-show, following :data:`TRANSITIONS`."""
        require_roles(actor, *CLINICAL_ROLES, what="change consultations")
        booking = await self._accessible(session, actor, public_id)
        if status not in TRANSITIONS[booking.status]:
            raise Conflict(f"cannot go from {booking.status.value} to {status.value}", code="invalid_transition")
        booking.status = status
        booking.updated_at = self._clock.now()
        await session.flush()
        await self._audit_booking(session, actor, booking, f"status:{status.value}")
        return await self._view(session, booking)

    # ----------------------------------------------------------------------------------- reads

    async def get(self, session: AsyncSession, actor: Actor, public_id: str, reason: str = "") -> BookingView:
        """One booking, for staff with access to the patient or taking part; the read is audited."""
        return (await self._read_one(session, actor, public_id, reason))[1]

    async def get_with_invitations(self, session: AsyncSession, actor: Actor, public_id: str,
                                   reason: str = "") -> tuple[BookingView, DeliverySummary]:
        """The booking page's data: :meth:`get` and :meth:`invitations` with one access check."""
        booking_id, view = await self._read_one(session, actor, public_id, reason)
        return view, await self._notifier.delivery(session, booking_id)

    async def _read_one(self, session: AsyncSession, actor: Actor, public_id: str,
                        reason: str) -> tuple[int, BookingView]:
        # A read needs no booking entity: the row with its names comes in one query, the access check
        # follows on its ids, then the participants (the view of a write reads the same way).
        row = (await session.execute(_with_relation(_view_rows().where(Booking.public_id == public_id),
                                                    actor))).first()
        # the same answer for "does not exist" and "not yours": ids must not be probed
        if row is None or not await self._may_see(session, actor, row[0], row[2],
                                                  related=row[_VIEW_WIDTH] is not None):
            raise NotFound("no such booking")
        booking_id, booking_public_id, patient_id = row[:3]
        await self._audit.record(session, actor, action="read", object_type="booking", object_id=booking_public_id,
                                 patient_id=patient_id, reason=reason)
        return booking_id, (await _views_of_rows(session, [row]))[0]

    async def invitations(self, session: AsyncSession, actor: Actor, public_id: str) -> DeliverySummary:
        """Where the latest invitation (or cancellation) to each participant of a booking stands.

        Read after :meth:`get` on the same page, so not audited again; the same access rule."""
        booking = await self._accessible(session, actor, public_id)
        return await self._notifier.delivery(session, booking.id)

    async def day_list(self, session: AsyncSession, actor: Actor, day: date, *,
                       user_id: int | None = None, tz: str = OSLO_TZ_NAME) -> list[BookingView]:
        """A staff user's consultations on a local date (cancelled ones left out), with participants.

        ``user_id`` defaults to the actor; a person resource is needed to have a day list.
        """
        require_roles(actor, *CLINICAL_ROLES, what="see day lists")
        uid = user_id if user_id is not None else actor.user_id
        if uid is None:
            raise PermissionDenied("no staff user")
        resource_id = (await session.execute(select(Resource.id).where(Resource.user_id == uid))).scalar_one_or_none()
        if resource_id is None:
            return []
        local = zone(tz)
        start = datetime.combine(day, time(0), tzinfo=local)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=local)
        return await self._bookings_of(session, actor, resource_id, start, end, include_cancelled=False,
                                       reason="day list")

    async def for_resource(self, session: AsyncSession, actor: Actor, resource_id: int, start: datetime,
                           end: datetime, *, include_cancelled: bool = True) -> list[BookingView]:
        """Bookings holding a resource in ``[start, end)`` (week calendars of people and rooms)."""
        require_roles(actor, *CLINICAL_ROLES, what="see calendars")
        return await self._bookings_of(session, actor, resource_id, start, end,
                                       include_cancelled=include_cancelled, reason="calendar")

    async def _bookings_of(self, session: AsyncSession, actor: Actor, resource_id: int, start: datetime,
                           end: datetime, *, include_cancelled: bool, reason: str) -> list[BookingView]:
        # A list reads in a fixed number of queries however many bookings it shows, and audits one row
        # per patient shown (the first of their bookings in the list names the view), all in one go:
        # a week of 200 bookings used to cost 200 audit rows and a thousand queries.
        # Rows with the names they show (not booking entities, whose loading cost more than the query),
        # the bookings picked by a subquery on the resource's reservations, so no DISTINCT is needed.
        holding = select(Reservation.booking_id).where(Reservation.resource_id == resource_id)
        stmt = _view_rows().where(Booking.id.in_(holding), Booking.start < end, Booking.end > start)
        if not include_cancelled:
            stmt = stmt.where(Booking.status != BookingStatus.CANCELLED)
        rows = (await session.execute(_with_relation(stmt, actor).order_by(Booking.start, Booking.id))).all()
        visible = await self._visible(session, actor, rows)
        shown = [row for row in rows if row[0] in visible]
        first_per_patient: dict[int, str] = {}  # patient id: public id of their first booking shown
        for _booking_id, booking_public_id, patient_id in (row[:3] for row in shown):
            first_per_patient.setdefault(patient_id, booking_public_id)
        await self._audit.record_many(session, [
            AuditRow(actor, action="list", object_type="booking", object_id=booking_public_id,
                     patient_id=patient_id, reason=reason)
            for patient_id, booking_public_id in first_per_patient.items()])
        return await _views_of_rows(session, shown)

    async def _visible(self, session: AsyncSession, actor: Actor, rows: Sequence[Row[Any]]) -> set[int]:
        """The ids of the bookings (rows read :func:`_with_relation`) the actor may see, by the rule of
        :meth:`_may_see`: those of related patients, and of the rest those the actor takes part in, in
        one query whatever their number."""
        if not rows or not actor.has_role(*CLINICAL_ROLES):
            return set()
        visible = {row[0] for row in rows if row[_VIEW_WIDTH] is not None}
        rest = [row[0] for row in rows if row[0] not in visible]
        if rest and actor.user_id is not None:
            visible |= set((await session.execute(
                bookings_of_user(actor.user_id).where(Reservation.booking_id.in_(rest)))).scalars())
        return visible

    async def accessible(self, session: AsyncSession, actor: Actor, public_id: str) -> Booking:
        """The booking row for another scheduling service that acts on it (the outcome), under the
        access rule of :meth:`get`; not audited here (the caller audits what it does)."""
        return await self._accessible(session, actor, public_id)

    async def view(self, session: AsyncSession, booking: Booking) -> BookingView:
        """The view of a booking row that :meth:`accessible` gave."""
        return await self._view(session, booking)

    # -------------------------------------------------------------------------------- internals

    async def _booking(self, session: AsyncSession, public_id: str) -> Booking:
        booking = (await session.execute(select(Booking).where(Booking.public_id == public_id))).scalar_one_or_none()
        if booking is None:
            raise NotFound("no such booking")
        return booking

    async def _accessible(self, session: AsyncSession, actor: Actor, public_id: str) -> Booking:
        booking = (await session.execute(select(Booking).where(Booking.public_id == public_id))).scalar_one_or_none()
        # the same answer for "does not exist" and "not yours": ids must not be probed
        if booking is None or not await self._may_see(session, actor, booking.id, booking.patient_id):
            raise NotFound("no such booking")
        return booking

    async def _may_see(self, session: AsyncSession, actor: Actor, booking_id: int, patient_id: int, *,
                       related: bool | None = None) -> bool:
        """Whether the actor may see the booking; ``related``: whether the patient is related to the
        actor's organisation, when the caller read that already (asked of the patients otherwise)."""
        if related is None:
            related = await self._patients.may_access(session, actor, patient_id)
        if related:
            return True
        # a participant sees the consultation they take part in, even from another organisation
        if actor.user_id is None or not actor.has_role(*CLINICAL_ROLES):
            return False
        return await user_takes_part(session, booking_id, actor.user_id)

    async def _audit_booking(self, session: AsyncSession, actor: Actor, booking: Booking, action: str,
                             reason: str = "") -> None:
        await self._audit.record(session, actor, action=action, object_type="booking", object_id=booking.public_id,
                                 patient_id=booking.patient_id, reason=reason)

    async def _view(self, session: AsyncSession, booking: Booking, *, replayed: bool = False) -> BookingView:
        # read back as every view is (the unit of work flushes the booking's changes first)
        rows = (await session.execute(_view_rows().where(Booking.id == booking.id))).all()
        if not rows:
            raise NotFound("booking is incomplete")
        view = (await _views_of_rows(session, rows))[0]
        return replace(view, replayed=True) if replayed else view


async def _outcomes(session: AsyncSession, booking_ids: Sequence[int]) -> dict[int, OutcomeView]:
    """The recorded outcomes of these bookings, with who recorded them, in one query."""
    if not booking_ids:
        return {}
    rows = (await session.execute(
        select(ConsultationOutcome, User.display_name)
        .outerjoin(User, User.id == ConsultationOutcome.recorded_by_user_id)
        .where(ConsultationOutcome.booking_id.in_(booking_ids)))).all()
    return {o.booking_id: OutcomeView(admission_avoided=o.admission_avoided, follow_up=decode_follow_up(o.follow_up),
                                      recorded_by_name=name or "", recorded_at=o.recorded_at)
            for o, name in rows}


_VIEW_ROWS = (
    select(Booking.id, Booking.public_id, Booking.patient_id, Booking.status, Booking.start, Booking.end,
           Booking.consultation_type_id, Booking.patient_at_home, Booking.sequence, Booking.ical_uid,
           Booking.cancel_reason, Booking.created_at, Booking.updated_at,
           Patient.public_id, Patient.given_name, Patient.family_name,
           ConsultationType.name, ConsultationType.name_en, Referral.public_id)
    .join(Patient, Patient.id == Booking.patient_id)
    .join(ConsultationType, ConsultationType.id == Booking.consultation_type_id)
    .outerjoin(Referral, Referral.id == Booking.referral_id)
)
"""The columns a booking's view shows, its patient's, type's and referral's with it: one query however
many bookings (a booking always has its patient and type; the referral is optional). The first three
are the booking's id, public id and patient id; a caller may add columns after the 19 of the view.

Rows are read by position: a row's attributes are looked up by name on every access, which for a week
of 200 bookings of twenty columns each cost more than building the views."""
_VIEW_WIDTH = 19


def _view_rows() -> Select[*tuple[Any, ...]]:
    """:data:`_VIEW_ROWS`, for a caller to add its ``where`` to (statements are immutable)."""
    return _VIEW_ROWS


def _with_relation(stmt: Select[*tuple[Any, ...]], actor: Actor) -> Select[*tuple[Any, ...]]:
    """``stmt`` (of :func:`_view_rows`) with one more column: not NULL when the booking's patient is
    related to the actor's organisation, the rule of ``PatientService.may_access`` (a clinical role and
    a relation), read with the rows instead of in a query of its own."""
    if not actor.has_role(*CLINICAL_ROLES) or actor.organisation_id is None:
        return stmt.add_columns(null())
    return stmt.outerjoin(PatientOrganisation, and_(
        PatientOrganisation.patient_id == Booking.patient_id,
        PatientOrganisation.organisation_id == actor.organisation_id,
    )).add_columns(PatientOrganisation.organisation_id)


async def _views_of_rows(session: AsyncSession, rows: Sequence[Row[Any]]) -> list[BookingView]:
    """Views of bookings read with :func:`_view_rows`, their participants in one more query (and the
    outcomes of completed ones in another), whatever their number."""
    if not rows:
        return []
    booked = [row[:_VIEW_WIDTH] for row in rows]
    participants: dict[int, list[ParticipantView]] = {row[0]: [] for row in booked}
    # The first reservation (by position) holds the blocked time the view shows, as every one does.
    blocked: dict[int, tuple[datetime, datetime]] = {}
    for booking_id, key, resource_id, blocked_start, blocked_end, name, kind, user_id in (await session.execute(
            select(Reservation.booking_id, Reservation.requirement_key, Reservation.resource_id,
                   Reservation.blocked_start, Reservation.blocked_end, Resource.name, Resource.kind,
                   Resource.user_id)
            .join(Resource, Resource.id == Reservation.resource_id)
            .where(Reservation.booking_id.in_(participants))
            .order_by(Reservation.booking_id, Reservation.position))).all():
        participants[booking_id].append(ParticipantView(key, resource_id, name, kind, user_id))
        blocked.setdefault(booking_id, (blocked_start, blocked_end))
    outcomes = await _outcomes(session, [row[0] for row in booked if row[3] is BookingStatus.COMPLETED])
    views = []
    for (booking_id, public_id, patient_id, status, start, end, type_id, at_home, sequence, ical_uid,
         cancel_reason, created_at, updated_at, patient_public_id, given_name, family_name, type_name,
         type_name_en, referral_public_id) in booked:
        blocked_start, blocked_end = blocked.get(booking_id, (start, end))
        views.append(BookingView(
            public_id=public_id, status=status, start=start, end=end,
            blocked_start=blocked_start, blocked_end=blocked_end,
            consultation_type_id=type_id, consultation_type_name=type_name,
            patient_id=patient_id, patient_public_id=patient_public_id,
            patient_name=f"{given_name} {family_name}", referral_public_id=referral_public_id,
            participants=tuple(participants[booking_id]), patient_at_home=at_home,
            sequence=sequence, ical_uid=ical_uid, cancel_reason=cancel_reason,
            created_at=created_at, updated_at=updated_at, consultation_type_name_en=type_name_en,
            outcome=outcomes.get(booking_id),
        ))
    return views


def _request_payload(data: BookRequest) -> dict[str, object]:
    return {
        "consultation_type_id": data.consultation_type_id,
        "start": data.start.isoformat(),
        "chosen": sorted([k, v] for k, v in data.chosen),
        "referral": data.referral_public_id,
        "patient": data.patient_public_id,
        "municipality_id": data.municipality_id,
    }
