"""What followed a consultation, on a real database: recorded as it is completed or afterwards, only for a
held consultation, only by staff who took part or a coordinator, validated and audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Select, select

from scheduling.models import AdmissionAvoided, Booking, BookingStatus, ConsultationOutcome, FollowUp
from scheduling.outcomes import OutcomeInput, read_outcome
from scheduling.services.factory import SchedulingServices
from server.people.accounts import AccountService
from server.people.models import Patient, User
from server.people.staff_actor import staff_actor
from server.people.totp import TotpCipher
from server.platform.audit import AuditLog
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from server.platform.roles import Role
from tests.integration.scheduling.conftest import World

HOME_AND_GP = OutcomeInput(AdmissionAvoided.YES, (FollowUp.HOME_CARE, FollowUp.GP))


async def _marit(db: Database) -> tuple[str, int]:
    """The demo's consultation for Marit Eriksen: the specialist, the Rødøy nurse and health room."""
    async with db.session() as session:
        booking = (await session.execute(select(Booking).join(Patient, Booking.patient_id == Patient.id)
                                          .where(Patient.given_name == "Marit"))).scalars().one()
        return booking.public_id, booking.patient_id


async def _in_progress(db: Database, services: SchedulingServices, world: World, public_id: str) -> None:
    async with db.session(write_lock=True) as session:
        await services.bookings.set_status(session, world.actors["lege"], public_id, BookingStatus.IN_PROGRESS)


def _outcome_of(public_id: str) -> Select[ConsultationOutcome]:
    return select(ConsultationOutcome).join(Booking, Booking.id == ConsultationOutcome.booking_id).where(
        Booking.public_id == public_id)


async def _outcome_audit(db: Database, public_id: str) -> list[AuditEntry]:
    async with db.session() as session:
        return list((await session.execute(select(AuditEntry).where(
            AuditEntry.object_type == "consultation_outcome", AuditEntry.object_id == public_id)
            .order_by(AuditEntry.seq))).scalars())


async def test_completing_records_what_followed_in_one_go_and_audits_it(
        db: Database, services: SchedulingServices, world: World, clock: FixedClock) -> None:
    public_id, patient_id = await _marit(db)
    await _in_progress(db, services, world, public_id)
    clock.advance(timedelta(minutes=40))
    async with db.session(write_lock=True) as session:
        view = await services.outcomes.complete(session, world.actors["lege"], public_id, HOME_AND_GP)
    assert view.status is BookingStatus.COMPLETED
    assert view.outcome is not None
    assert view.outcome.admission_avoided is AdmissionAvoided.YES
    assert view.outcome.follow_up == (FollowUp.HOME_CARE, FollowUp.GP)
    assert view.outcome.recorded_by_name == "Ingrid Hansen" and view.outcome.recorded_at == clock.now()
    async with db.session() as session:
        row = (await session.execute(_outcome_of(public_id))).scalars().one()
        assert row.follow_up == "home_care,gp" and row.recorded_by_user_id == world.actors["lege"].user_id
        status_rows = (await session.execute(select(AuditEntry.action).where(
            AuditEntry.object_id == public_id, AuditEntry.action == "status:completed"))).scalars().all()
        assert status_rows == ["status:completed"]
        # the booking, read again, carries the outcome too
        again = await services.bookings.get(session, world.actors["sykepleier.rodoy"], public_id)
        assert again.outcome == view.outcome
    [audit] = await _outcome_audit(db, public_id)
    assert (audit.action, audit.patient_id, audit.actor_name) == ("create", patient_id, "Ingrid Hansen")


async def test_the_outcome_is_changed_later_by_a_participant_or_a_coordinator(
        db: Database, services: SchedulingServices, world: World, clock: FixedClock) -> None:
    public_id, _ = await _marit(db)
    await _in_progress(db, services, world, public_id)
    async with db.session(write_lock=True) as session:
        await services.outcomes.complete(session, world.actors["sykepleier.rodoy"], public_id, HOME_AND_GP)
    clock.advance(timedelta(days=2))
    changed = OutcomeInput(AdmissionAvoided.NO, (FollowUp.ADMISSION,))
    async with db.session(write_lock=True) as session:
        view = await services.outcomes.record(session, world.actors["koordinator"], public_id, changed)
    assert view.outcome is not None and view.outcome.admission_avoided is AdmissionAvoided.NO
    assert view.outcome.follow_up == (FollowUp.ADMISSION,) and view.outcome.recorded_by_name == "Siri Berg"
    nothing = OutcomeInput(AdmissionAvoided.UNCERTAIN, ())
    async with db.session(write_lock=True) as session:
        view = await services.outcomes.record(session, world.actors["lege"], public_id, nothing)
    assert view.outcome is not None and view.outcome.follow_up == ()
    async with db.session() as session:
        assert len((await session.execute(_outcome_of(public_id))).scalars().all()) == 1
    assert [(a.action, a.actor_name) for a in await _outcome_audit(db, public_id)] == [
        ("create", "Kari Nilsen"), ("update", "Siri Berg"), ("update", "Ingrid Hansen")]


async def test_only_a_held_consultation_has_an_outcome(
        db: Database, services: SchedulingServices, world: World) -> None:
    public_id, _ = await _marit(db)
    for status in (None, BookingStatus.IN_PROGRESS):
        if status is not None:
            await _in_progress(db, services, world, public_id)
        with pytest.raises(Conflict) as refused:
            async with db.session(write_lock=True) as session:
                await services.outcomes.record(session, world.actors["lege"], public_id, HOME_AND_GP)
        assert refused.value.code == "not_completed"
    async with db.session(write_lock=True) as session:
        await services.bookings.set_status(session, world.actors["lege"], public_id, BookingStatus.COMPLETED)
    async with db.session(write_lock=True) as session:
        await services.outcomes.record(session, world.actors["lege"], public_id, HOME_AND_GP)
    assert len(await _outcome_audit(db, public_id)) == 1


async def test_completing_what_is_not_in_progress_changes_nothing(
        db: Database, services: SchedulingServices, world: World) -> None:
    public_id, _ = await _marit(db)
    async with db.session(write_lock=True) as session:
        await services.bookings.cancel(session, world.actors["koordinator"], public_id, "Pasienten er innlagt")
    with pytest.raises(Conflict) as refused:
        async with db.session(write_lock=True) as session:
            await services.outcomes.complete(session, world.actors["lege"], public_id, HOME_AND_GP)
    assert refused.value.code == "invalid_transition"
    async with db.session() as session:
        assert (await session.execute(_outcome_of(public_id))).first() is None
        booking = (await session.execute(select(Booking).where(Booking.public_id == public_id))).scalar_one()
        assert booking.status is BookingStatus.CANCELLED
    assert await _outcome_audit(db, public_id) == []


async def test_only_staff_who_took_part_or_a_coordinator_record_it(
        db: Database, services: SchedulingServices, world: World, clock: FixedClock) -> None:
    public_id, _ = await _marit(db)
    accounts = AccountService(clock, AuditLog(clock), TotpCipher("test-totp-key-0123456789abcdef"))
    async with db.session() as session:
        # a colleague at the same hospital: may see Marit's booking, but did not take part
        await accounts.create_user(session, username="lege2", display_name="Eva Lie", password="x" * 16,
                                   role=Role.SPECIALIST,
                                   organisation_id=world.organisations["Helgelandssykehuset Mo i Rana"])
    async with db.session() as session:
        colleague = staff_actor((await session.execute(select(User).where(User.username == "lege2"))).scalar_one())
    await _in_progress(db, services, world, public_id)
    with pytest.raises(PermissionDenied):
        async with db.session(write_lock=True) as session:
            await services.outcomes.complete(session, colleague, public_id, HOME_AND_GP)
    with pytest.raises(NotFound):  # Lurøy has no care relation to Marit: as if it did not exist
        async with db.session(write_lock=True) as session:
            await services.outcomes.complete(session, world.actors["sykepleier.luroy"], public_id, HOME_AND_GP)
    with pytest.raises(PermissionDenied):  # the team leader sees figures, not consultations
        async with db.session(write_lock=True) as session:
            await services.outcomes.complete(session, world.actors["leder"], public_id, HOME_AND_GP)
    async with db.session() as session:
        booking = (await session.execute(select(Booking).where(Booking.public_id == public_id))).scalar_one()
        assert booking.status is BookingStatus.IN_PROGRESS, "a refused completion changes nothing"
    async with db.session(write_lock=True) as session:
        await services.outcomes.complete(session, world.actors["koordinator"], public_id, HOME_AND_GP)
    with pytest.raises(PermissionDenied):
        async with db.session(write_lock=True) as session:
            await services.outcomes.record(session, colleague, public_id, HOME_AND_GP)


@pytest.mark.parametrize(("admission", "follow_up", "fields"), [
    (None, [], {"admission_avoided": "required"}),
    ("", ["gp"], {"admission_avoided": "required"}),
    ("kanskje", [], {"admission_avoided": "invalid_choice"}),
    (True, [], {"admission_avoided": "invalid_choice"}),
    ("yes", ["gp", "dentist"], {"follow_up": "invalid_choice"}),
    ("yes", "gp", {"follow_up": "invalid_choice"}),
    ("yes", [1], {"follow_up": "invalid_choice"}),
    ("yes", ["gp", "gp"], {"follow_up": "duplicate"}),
    ("yes", ["home_care", "admission"], {"follow_up": "outcome_contradiction"}),
    ("maybe", ["x"], {"admission_avoided": "invalid_choice", "follow_up": "invalid_choice"}),
])
def test_a_bad_outcome_is_refused_with_every_problem(admission: object, follow_up: object,
                                                      fields: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        read_outcome(admission, follow_up)
    assert refused.value.fields == fields


def test_a_good_outcome_is_read_in_the_one_order() -> None:
    assert read_outcome("uncertain", ["outpatient", "home_care"]) == OutcomeInput(
        AdmissionAvoided.UNCERTAIN, (FollowUp.HOME_CARE, FollowUp.OUTPATIENT))
    assert read_outcome("no", ["admission"]) == OutcomeInput(AdmissionAvoided.NO, (FollowUp.ADMISSION,))
    assert read_outcome("yes", None) == OutcomeInput(AdmissionAvoided.YES, ())
