"""The notes service on SQLite and PostgreSQL: versions kept, concurrent saves, signing, access, audit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import func, select, update

from notes.access import NoteAction
from notes.errors import NotSigned
from notes.export_workers import render_export
from notes.model import (
    AdvanceCarePlan,
    Measure,
    NoteContent,
    Responsible,
    ResponsibleKind,
    RiskAnalysis,
    WhatMatters,
)
from notes.models import NoteVersionRow
from notes.note_views import ExportFormat, NoteView
from notes.service import NoteService
from scheduling.models import Booking, Reservation, Resource
from server.consultation_directory import SqlConsultationDirectory
from server.people.accounts import AccountService
from server.people.models import Patient, User
from server.people.patients import PatientService
from server.people.staff_actor import staff_actor
from server.people.totp import TotpCipher
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database
from server.platform.errors import NotFound, PermissionDenied, ValidationFailed
from server.platform.roles import Role
from tests.conftest import Seeded


@dataclass
class NotesWorld:
    service: NoteService
    actors: dict[str, Actor]
    booking: str
    patient_id: int


@pytest.fixture
async def world(db: Database, seeded: Seeded, clock: FixedClock) -> NotesWorld:
    audit = AuditLog(clock)
    accounts = AccountService(clock, audit, TotpCipher("test-totp-key-0123456789abcdef"))
    async with db.session() as session:
        # A second specialist of the hospital who does not take part: related to Marit, not a participant.
        await accounts.create_user(session, username="lege2", display_name="Eva Lie", password="x" * 16,
                                   role=Role.SPECIALIST, organisation_id=seeded.organisations[
                                       "Helgelandssykehuset Mo i Rana"], profession="lege")
    async with db.session() as session:
        users = (await session.execute(select(User))).scalars().all()
        actors = {u.username: staff_actor(u) for u in users}
        booking = (await session.execute(select(Booking).join(Patient, Booking.patient_id == Patient.id)
                                          .where(Patient.given_name == "Marit"))).scalars().one()
    service = NoteService(clock, audit, PatientService(clock, audit), SqlConsultationDirectory())
    return NotesWorld(service, actors, booking.public_id, booking.patient_id)


async def _open(db: Database, w: NotesWorld, who: str = "lege") -> NoteView:
    """The note as ``who`` opens it, after the specialist's first save created it (opening creates nothing)."""
    async with db.session(write_lock=True) as session:
        exists = (await w.service.open_for_booking(session, w.actors["lege"], w.booking)).public_id is not None
        if not exists:
            await w.service.save_for_booking(session, w.actors["lege"], w.booking, based_on=0, content=NoteContent())
    async with db.session(write_lock=True) as session:
        return await w.service.open_for_booking(session, w.actors[who], w.booking)


WM = WhatMatters(own_words="Å bo hjemme", goals=("Gå til butikken",))
RISK = RiskAnalysis(id="r1", unwanted_event="Fall", causes=("Svake muskler",), consequences=("Brudd",),
                    proactive_measures=("Styrketrening",), reactive_measures=("Trygghetsalarm",))
MEASURE = Measure(id="m1", what="Legemiddelgjennomgang", responsible=Responsible(ResponsibleKind.GP))


async def _save(db: Database, w: NotesWorld, note: str, based_on: int, content: NoteContent,
                who: str = "lege"):  # type: ignore[no-untyped-def]
    async with db.session(write_lock=True) as session:
        return await w.service.save(session, w.actors[who], note, based_on=based_on, content=content)


async def test_every_version_is_kept_and_open_is_idempotent(db: Database, world: NotesWorld) -> None:
    view = await _open(db, world)
    assert view.version == 1 and view.state.content.is_empty()
    again = await _open(db, world, "sykepleier.rodoy")
    assert again.public_id == view.public_id
    r1 = await _save(db, world, view.public_id, 1, NoteContent(what_matters=WM))
    r2 = await _save(db, world, view.public_id, 2, NoteContent(what_matters=WM, risks=(RISK,)))
    assert (r1.view.version, r2.view.version) == (2, 3)
    # The same content again (a retry after a lost answer) adds no version.
    r3 = await _save(db, world, view.public_id, 3, NoteContent(what_matters=WM, risks=(RISK,)))
    assert not r3.new_version and r3.view.version == 3
    async with db.session(write_lock=True) as session:
        page = await world.service.versions(session, world.actors["lege"], view.public_id)
        second = await world.service.version(session, world.actors["lege"], view.public_id, 2)
        third = await world.service.version(session, world.actors["lege"], view.public_id, 3)
        later = await world.service.versions(session, world.actors["lege"], view.public_id, offset=1, limit=1)
        with pytest.raises(NotFound):
            await world.service.version(session, world.actors["lege"], view.public_id, 4)
    assert [v.version for v in page.versions] == [1, 2, 3] and page.total == 3
    assert [v.version for v in later.versions] == [2] and later.total == 3
    assert page.versions[1].author.profession == "physician" and page.versions[2].size > page.versions[0].size
    assert second.content == NoteContent(what_matters=WM)
    assert third.content.risks == (RISK,)


async def test_different_parts_merge_and_same_part_conflicts(db: Database, world: NotesWorld) -> None:
    note = (await _open(db, world)).public_id
    # Doctor and nurse both start from version 1.
    doctor = await _save(db, world, note, 1, NoteContent(what_matters=WM))
    nurse = await _save(db, world, note, 1, NoteContent(measures=(MEASURE,)), "sykepleier.rodoy")
    assert doctor.view.version == 2 and nurse.view.version == 3 and not nurse.conflicts
    assert nurse.view.state.content == NoteContent(what_matters=WM, measures=(MEASURE,))
    # Now both change "what matters" from version 3: the second gets a conflict, nothing is overwritten.
    mine = replace(WM, own_words="Å klare seg selv")
    theirs = replace(WM, own_words="Å være hjemme til jul")
    await _save(db, world, note, 3, NoteContent(what_matters=theirs, measures=(MEASURE,)), "sykepleier.rodoy")
    result = await _save(db, world, note, 3, NoteContent(what_matters=mine, measures=(MEASURE,)))
    assert [c.part for c in result.conflicts] == ["what_matters"]
    conflict = result.conflicts[0]
    assert conflict.theirs == theirs and conflict.mine == mine
    assert result.view.state.content.what_matters == theirs
    # Resolving: saving mine based on the latest version takes it.
    resolved = await _save(db, world, note, result.view.version, NoteContent(what_matters=mine, measures=(MEASURE,)))
    assert not resolved.conflicts and resolved.view.state.content.what_matters == mine


async def test_concurrent_saves_lose_nothing(db: Database, world: NotesWorld) -> None:
    note = (await _open(db, world)).public_id
    contents = [
        NoteContent(what_matters=WM),
        NoteContent(risks=(RISK,)),
        NoteContent(measures=(MEASURE,)),
        NoteContent(acp=AdvanceCarePlan(wishes_if_seriously_ill="Ikke innleggelse")),
    ]
    results = await asyncio.gather(*(_save(db, world, note, 1, c, who)
                                     for c, who in zip(contents, ["lege", "sykepleier.rodoy"] * 2, strict=True)))
    assert all(not r.conflicts for r in results)
    async with db.session(write_lock=True) as session:
        final = await world.service.load(session, world.actors["lege"], note)
        count = (await session.execute(select(func.count()).select_from(NoteVersionRow))).scalar_one()
    assert final.version == 5 and count == 5
    c = final.state.content
    assert c.what_matters == WM and c.risks == (RISK,) and c.measures == (MEASURE,) and c.acp is not None


async def test_sign_locks_and_amendments_chain(db: Database, world: NotesWorld, clock: FixedClock) -> None:
    note = (await _open(db, world)).public_id
    await _save(db, world, note, 1, NoteContent(what_matters=WM, measures=(MEASURE,)))
    async with db.session(write_lock=True) as session:
        with pytest.raises(NotSigned):
            await world.service.amend(session, world.actors["lege"], note, part="note", text="Tillegg")
    async with db.session(write_lock=True) as session:
        signed = await world.service.sign(session, world.actors["lege"], note)
    assert signed.state.signature is not None and signed.state.signature.version == 2 and signed.verified
    # Text that reaches the signed note is kept as the author's draft amendment: no new version, nothing lost.
    late = await _save(db, world, note, 2, NoteContent(what_matters=replace(WM, own_words="endret")))
    assert not late.new_version and late.view.version == 2 and late.after_signing == ("what_matters",)
    assert late.view.state.content.what_matters == WM
    async with db.session(write_lock=True) as session:
        amended = await world.service.amend(session, world.actors["sykepleier.rodoy"], note, part="measures[m1]",
                                            text="Startet 1. desember.")
    assert amended.state.status.value == "amended" and amended.verified
    assert amended.state.content.what_matters == WM  # the signed original stays as it was
    async with db.session(write_lock=True) as session:
        text = await world.service.prepare_export(session, world.actors["lege"], note, ExportFormat.TEXT)
        fhir = await world.service.prepare_export(session, world.actors["lege"], note, ExportFormat.FHIR, "en")
        pdf = await world.service.prepare_export(session, world.actors["lege"], note, ExportFormat.PDF)
    assert "Startet 1. desember." in render_export(text).decode()
    assert "Legemiddelgjennomgang" in render_export(text).decode()
    assert b'"Composition"' in render_export(fhir) and render_export(pdf).startswith(b"%PDF")


async def test_every_read_and_write_is_audited(db: Database, world: NotesWorld) -> None:
    async with db.session(write_lock=True) as session:
        empty = await world.service.open_for_booking(session, world.actors["lege"], world.booking)
    assert empty.public_id is None and empty.version == 0  # opened before anyone wrote: nothing stored
    async with db.session(write_lock=True) as session:
        first = await world.service.save_for_booking(session, world.actors["lege"], world.booking, based_on=0,
                                                     content=NoteContent(what_matters=WM))
    note = first.view.public_id
    assert note is not None and first.view.version == 2
    async with db.session(write_lock=True) as session:
        await world.service.load(session, world.actors["sykepleier.rodoy"], note)
        await world.service.versions(session, world.actors["lege"], note)
        await world.service.sign(session, world.actors["lege"], note)
        await world.service.amend(session, world.actors["lege"], note, part="note", text="Tillegg")
        await world.service.prepare_export(session, world.actors["koordinator"], note, ExportFormat.PDF, reason="Arkiv")
        await world.service.set_shared(session, world.actors["lege"], note, True)
    async with db.session() as session:
        rows = (await session.execute(select(AuditEntry).where(AuditEntry.object_type == "note")
                                      .order_by(AuditEntry.seq))).scalars().all()
        verified = await AuditLog(FixedClock()).verify(session)
    assert [r.action for r in rows] == ["read", "create", "save", "read", "read_versions", "sign", "amend",
                                        "export:pdf", "share"]
    # The read before the note existed is logged against the consultation; the rest against the note.
    assert rows[0].object_id == world.booking and rows[0].patient_id == world.patient_id
    assert all(r.patient_id == world.patient_id and r.object_id == note for r in rows[1:])
    assert rows[-2].reason == "Arkiv" and rows[-2].role == "coordinator"
    assert verified.ok


ACTIONS = list(NoteAction)
# username → the actions that succeed (participants: lege, sykepleier.rodoy; the hospital's coordinator and
# second specialist are related through the patient's organisations and give a reason).
EXPECTED: dict[str, set[NoteAction]] = {
    "lege": set(ACTIONS),
    "sykepleier.rodoy": set(ACTIONS),
    "lege2": set(ACTIONS),
    "koordinator": {NoteAction.READ, NoteAction.EXPORT},
    "sykepleier.luroy": set(),
    "leder": set(),
    "admin": set(),
}


async def _attempt(db: Database, w: NotesWorld, who: str, action: NoteAction, note: str, reason: str) -> None:
    actor, svc = w.actors[who], w.service
    async with db.session(write_lock=True) as session:
        match action:
            case NoteAction.READ:
                await svc.load(session, actor, note, reason)
            case NoteAction.SAVE:
                await svc.save(session, actor, note, based_on=1, content=NoteContent(what_matters=WM), reason=reason)
            case NoteAction.SIGN:
                await svc.sign(session, actor, note, reason)
            case NoteAction.AMEND:
                await svc.amend(session, actor, note, part="note", text="Tillegg", reason=reason)
            case NoteAction.EXPORT:
                await svc.prepare_export(session, actor, note, ExportFormat.TEXT, reason=reason)
            case NoteAction.SHARE:
                await svc.set_shared(session, actor, note, True, reason)


@pytest.mark.parametrize("who", sorted(EXPECTED))
@pytest.mark.parametrize("action", ACTIONS)
async def test_access_matrix(db: Database, world: NotesWorld, who: str, action: NoteAction) -> None:
    note = (await _open(db, world)).public_id
    await _save(db, world, note, 1, NoteContent(what_matters=WM))
    if action in (NoteAction.AMEND, NoteAction.SHARE):
        async with db.session(write_lock=True) as session:
            await world.service.sign(session, world.actors["lege"], note)
    async with db.session() as session:
        before = (await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
    if action in EXPECTED[who]:
        await _attempt(db, world, who, action, note, "Oppfølging")
        async with db.session() as session:
            last = (await session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))).scalar_one()
        assert last.actor_id == world.actors[who].id and last.patient_id == world.patient_id
    else:
        with pytest.raises((NotFound, PermissionDenied)):
            await _attempt(db, world, who, action, note, "Oppfølging")
        async with db.session() as session:
            after = (await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
        assert after == before  # a refused attempt leaves nothing behind


async def test_non_participants_need_a_reason(db: Database, world: NotesWorld) -> None:
    note = (await _open(db, world)).public_id
    async with db.session(write_lock=True) as session:
        with pytest.raises(ValidationFailed):
            await world.service.load(session, world.actors["lege2"], note)
    async with db.session(write_lock=True) as session:
        # Unrelated staff may not even create the note of a consultation.
        with pytest.raises(NotFound):
            await world.service.open_for_booking(session, world.actors["sykepleier.luroy"], world.booking)


async def test_a_released_reservation_no_longer_makes_a_participant(db: Database, world: NotesWorld) -> None:
    note = (await _open(db, world)).public_id
    async with db.session(write_lock=True) as session:
        # A reschedule gave the consultation to another specialist: the old reservation stays, inactive.
        user_id = world.actors["lege"].user_id
        resource = (await session.execute(select(Resource).where(Resource.user_id == user_id))).scalar_one()
        await session.execute(update(Reservation).where(Reservation.resource_id == resource.id)
                              .values(active=False))
    async with db.session(write_lock=True) as session:
        with pytest.raises(ValidationFailed):  # related through the hospital, but now needs a reason
            await world.service.load(session, world.actors["lege"], note)


async def test_patients_see_only_a_shared_signed_note(db: Database, world: NotesWorld) -> None:
    note = (await _open(db, world)).public_id
    await _save(db, world, note, 1, NoteContent(what_matters=WM))
    guest = Actor(kind="guest", id="guest:1", name="Marit Eriksen", role="patient", organisation_id=None,
                  organisation_name="")
    async with db.session(write_lock=True) as session:
        with pytest.raises(NotFound):
            await world.service.read_shared(session, guest, world.booking)
        await world.service.sign(session, world.actors["lege"], note)
    async with db.session(write_lock=True) as session:
        with pytest.raises(NotFound):
            await world.service.read_shared(session, guest, world.booking)
        await world.service.set_shared(session, world.actors["lege"], note, True)
    async with db.session(write_lock=True) as session:
        view = await world.service.read_shared(session, guest, world.booking)
    assert view.state.content.what_matters == WM and not view.permissions
