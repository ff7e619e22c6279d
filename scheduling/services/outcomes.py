"""Recording what followed a held consultation (admission avoided, who follows up), audited.

Staff who took part know what followed, and a coordinator may tidy up for them; others with access to
the booking see the outcome but cannot change it. The booking page asks for it as the consultation is
completed (:meth:`OutcomeService.complete`: status and outcome in one unit of work, or neither), and it
may be changed later (:meth:`OutcomeService.record`). Every write is one audit row with the patient's
id; the answer itself is not copied into the log (it is health data, read through the booking).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.booking_rules import TRANSITIONS
from scheduling.models import Booking, BookingStatus, ConsultationOutcome
from scheduling.outcomes import OutcomeInput, encode_follow_up, may_record
from scheduling.participation import user_takes_part
from scheduling.services.bookings import BookingService
from scheduling.services.common import CLINICAL_ROLES, require_roles
from scheduling.services.views import BookingView
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.clock import Clock
from server.platform.errors import Conflict, PermissionDenied
from server.platform.roles import Role

OBJECT_TYPE = "consultation_outcome"


class OutcomeService:
    """Records and changes the outcome of completed consultations."""

    def __init__(self, clock: Clock, audit: AuditLog, bookings: BookingService) -> None:
        self._clock = clock
        self._audit = audit
        self._bookings = bookings

    @staticmethod
    def may_record(actor: Actor, booking: BookingView) -> bool:
        """Whether the actor may record the outcome of this booking once it is completed: they take
        part in it or coordinate (the rule :meth:`record` enforces). For pages deciding what to offer."""
        return actor.has_role(*CLINICAL_ROLES) and may_record(
            takes_part=booking.takes_part(actor.user_id), coordinator=actor.has_role(Role.COORDINATOR))

    async def record(self, session: AsyncSession, actor: Actor, public_id: str, data: OutcomeInput) -> BookingView:
        """Record, or change, the outcome of a completed consultation; returns the booking with it.

        Raises ``NotFound`` (no such booking, or not the actor's to see), ``Conflict`` ``not_completed``
        (only a held consultation has an outcome), ``PermissionDenied`` (neither took part nor
        coordinates)."""
        require_roles(actor, *CLINICAL_ROLES, what="record outcomes")
        booking = await self._bookings.accessible(session, actor, public_id)
        if booking.status is not BookingStatus.COMPLETED:
            raise Conflict("only a completed consultation has an outcome", code="not_completed")
        await self._check_may_record(session, actor, booking)
        await self._write(session, actor, booking, data)
        return await self._bookings.view(session, booking)

    async def complete(self, session: AsyncSession, actor: Actor, public_id: str,
                       data: OutcomeInput) -> BookingView:
        """Complete an ongoing consultation and record what followed, in the caller's unit of work: both
        or neither. Raises as :meth:`record`, and ``Conflict`` ``invalid_transition`` when the
        consultation is not in progress."""
        require_roles(actor, *CLINICAL_ROLES, what="complete consultations")
        booking = await self._bookings.accessible(session, actor, public_id)
        if BookingStatus.COMPLETED not in TRANSITIONS[booking.status]:
            # before the participation check: a cancelled booking's reservations no longer name anyone
            raise Conflict(f"cannot go from {booking.status.value} to completed", code="invalid_transition")
        await self._check_may_record(session, actor, booking)
        await self._bookings.set_status(session, actor, public_id, BookingStatus.COMPLETED)
        await self._write(session, actor, booking, data)
        return await self._bookings.view(session, booking)

    async def _check_may_record(self, session: AsyncSession, actor: Actor, booking: Booking) -> None:
        takes_part = actor.user_id is not None and await user_takes_part(session, booking.id, actor.user_id)
        if not may_record(takes_part=takes_part, coordinator=actor.has_role(Role.COORDINATOR)):
            raise PermissionDenied("only staff who took part, or a coordinator, may record the outcome")

    async def _write(self, session: AsyncSession, actor: Actor, booking: Booking, data: OutcomeInput) -> None:
        now = self._clock.now()
        outcome = await session.get(ConsultationOutcome, booking.id)
        action = "update" if outcome is not None else "create"
        if outcome is None:
            outcome = ConsultationOutcome(booking_id=booking.id)
            session.add(outcome)
        outcome.admission_avoided = data.admission_avoided
        outcome.follow_up = encode_follow_up(data.follow_up)
        outcome.recorded_by_user_id = actor.user_id
        outcome.recorded_at = now
        await session.flush()
        await self._audit.record(session, actor, action=action, object_type=OBJECT_TYPE,
                                 object_id=booking.public_id, patient_id=booking.patient_id)
