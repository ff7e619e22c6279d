"""The notes service: a joint note per consultation, kept in the database, every read and write audited.

The pure rules live in the rest of :mod:`notes` (merging, signing, exports); this service loads a note's
state from its tables, applies one rule and stores the result in the caller's unit of work, with an audit
row in the same transaction so the log and the note never disagree.

Who may do what (:func:`notes.access.allowed`):

- staff taking part in the consultation (a person resource of the booking), and clinical staff of an
  organisation with a care relation to the patient, may read and export; specialists and nurses may also
  save, sign, amend and share. Staff who are not participants must state a reason, which goes to the log;
- everybody else gets "not found", the same answer as for a note that does not exist, so ids cannot be
  probed; the patient and relatives read only the signed summary, and only once staff have shared it.

Saves never lose a word: a part that breaks a rule does not stop the others. The save stores every valid
part as a new version and keeps each invalid part, as typed, as that author's draft (``note_drafts``), shown
to them at its field until they fix it; signing is refused while any draft is outstanding, naming each
problem (:class:`notes.errors.SignBlocked`).

Saves never overwrite silently: a save names the version it was based on and is merged part by part with
whatever was stored meanwhile (:func:`notes.editing.save`). Two saves computing the same next version are
settled by ``UNIQUE(note_id, version)``: the loser merges again on top of the winner.

On SQLite call every method inside ``Database.session(write_lock=True)``: each one writes (at least the
audit row), and taking the write lock up front avoids a failed lock upgrade between read and write.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, replace

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from notes import editing, signing
from notes.access import NoteAction, Relation, allowed, profession_of
from notes.after_signing import after_signing_error, changed_after
from notes.codec import note_from_json, note_to_json
from notes.consultations import Consultation, ConsultationDirectory
from notes.errors import FieldError, InvalidAmendment, NotSigned, SignBlocked, SignBlocker, UnknownVersion
from notes.export_workers import ExportJob
from notes.headings import DEFAULT_LANGUAGE, Language
from notes.model import (
    ExportContext,
    ExportOrganisation,
    ExportParticipant,
    ExportSubject,
    NoteContent,
    NoteHeader,
    Person,
    SubjectRef,
)
from notes.models import NoteAmendmentRow, NoteDraftRow, NoteRow, NoteSignatureRow, NoteVersionRow
from notes.note_views import (
    ExportFormat,
    LiveAccess,
    NoteView,
    SaveResult,
    StoredDraft,
    VersionInfo,
    VersionPage,
    VersionSummary,
)
from notes.parts import is_part_key, parts_of
from notes.signing import Amendment, NoteState, Signature
from notes.submission import PartDraft, Submission, part_json
from notes.validation import NOTE_TEXT_LIMIT
from server.people.models import Patient, User
from server.people.national_id import InvalidNationalId, parse_national_id
from server.people.patients import PatientService
from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.clock import Clock
from server.platform.errors import NotFound, PermissionDenied, ValidationFailed

logger = logging.getLogger(__name__)

OBJECT_TYPE = "note"
# Attempts at storing a save when others keep winning the race for the next version number.
SAVE_ATTEMPTS = 5
MAX_REASON = 300


@dataclass(frozen=True)
class _Loaded:
    note: NoteRow
    booking: Consultation
    patient: Patient
    relation: Relation


NO_SUCH_NOTE = "no such note"
"""The one answer to a note or consultation that does not exist *and* to one the caller has no access to:
the same status, problem and detail, so ids cannot be probed."""


class NoteService:
    """Opens, saves, signs, amends, shares and exports consultation notes, auditing each step."""

    def __init__(self, clock: Clock, audit: AuditLog, patients: PatientService,
                 consultations: ConsultationDirectory) -> None:
        self._clock = clock
        self._audit = audit
        self._patients = patients
        self._consultations = consultations

    # ------------------------------------------------------------------------------ opening and reading

    async def open_for_booking(self, session: AsyncSession, actor: Actor, booking_public_id: str,
                               reason: str = "") -> NoteView:
        """The booking's note for a reader; the read is audited and nothing else is written.

        A consultation nobody has written a note for yet answers an empty note (:attr:`NoteView.public_id`
        ``None``, version 0): opening it creates nothing, the first save does (:meth:`save_for_booking`).
        The read of such a note is logged against the consultation (its public id), as there is no note id.
        """
        booking, relation, why = await self._booking_checked(session, actor, booking_public_id, NoteAction.READ,
                                                             reason)
        note = await self._note_for_booking(session, booking.id)
        patient = await self._patient(session, booking.patient_id)
        if note is None:
            await self._audit.record(session, actor, action="read", object_type=OBJECT_TYPE,
                                     object_id=booking.public_id, patient_id=booking.patient_id, reason=why)
            return await self._empty_view(session, actor, booking, patient, relation)
        loaded = _Loaded(note, booking, patient, relation)
        await self._record(session, actor, note, "read", why)
        return await self._view(session, actor, loaded)

    async def save_for_booking(self, session: AsyncSession, actor: Actor, booking_public_id: str, *,
                               based_on: int, content: NoteContent | Submission, reason: str = "",
                               lang: Language = DEFAULT_LANGUAGE) -> SaveResult:
        """Save the booking's note (as :meth:`save`), creating it first if nobody has saved one yet.

        ``based_on`` 0 is the empty note an editor shows before the note exists; every note starts as an
        empty version 1, so a save based on 0 merges exactly like one based on 1 (two first saves at the
        same moment merge part by part, as any two saves do).
        """
        booking, _relation, why = await self._booking_checked(session, actor, booking_public_id,
                                                              NoteAction.SAVE, reason)
        note = await self._note_for_booking(session, booking.id)
        if note is None:
            note = await self._create(session, actor, booking)
            await self._record(session, actor, note, "create", why)
        return await self.save(session, actor, note.public_id, based_on=1 if based_on == 0 else based_on,
                               content=content, reason=reason, lang=lang)

    async def _booking_checked(self, session: AsyncSession, actor: Actor, booking_public_id: str,
                               action: NoteAction, reason: str) -> tuple[Consultation, Relation, str]:
        """The booking, the actor's relation to it and the reason the action is allowed (or a refusal)."""
        booking = await self._consultations.by_public_id(session, booking_public_id)
        if booking is None:
            raise NotFound(NO_SUCH_NOTE)
        relation = await self._relation(session, actor, booking)
        return booking, relation, self._check(actor, relation, action, reason)

    async def load(self, session: AsyncSession, actor: Actor, note_id: str, reason: str = "") -> NoteView:
        """The latest state of a note, for a reader; the read is audited."""
        loaded = await self._load(session, actor, note_id)
        why = self._check(actor, loaded.relation, NoteAction.READ, reason)
        await self._record(session, actor, loaded.note, "read", why)
        return await self._view(session, actor, loaded)

    async def versions(self, session: AsyncSession, actor: Actor, note_id: str, reason: str = "", *,
                       offset: int = 0, limit: int = 100) -> VersionPage:
        """The stored versions, oldest first, without their content (nothing anybody saved is ever lost;
        each version's content is one :meth:`version` away)."""
        loaded = await self._load(session, actor, note_id)
        why = self._check(actor, loaded.relation, NoteAction.READ, reason)
        await self._record(session, actor, loaded.note, "read_versions", why)
        size = func.length(NoteVersionRow.content)
        rows = (await session.execute(
            select(NoteVersionRow.version, NoteVersionRow.author_id, NoteVersionRow.author_name,
                   NoteVersionRow.author_profession, NoteVersionRow.created_at, size)
            .where(NoteVersionRow.note_id == loaded.note.id)
            .order_by(NoteVersionRow.version).offset(offset).limit(limit))).all()
        total = await session.scalar(select(func.count()).select_from(NoteVersionRow)
                                     .where(NoteVersionRow.note_id == loaded.note.id))
        return VersionPage(tuple(VersionSummary(r[0], Person(r[1], r[2], r[3]), r[4], r[5] or 0) for r in rows),
                           total or 0)

    async def version(self, session: AsyncSession, actor: Actor, note_id: str, number: int,
                      reason: str = "") -> VersionInfo:
        """One stored version with its content; :class:`NotFound` for a version that does not exist."""
        loaded = await self._load(session, actor, note_id)
        why = self._check(actor, loaded.relation, NoteAction.READ, reason)
        row = (await session.execute(select(NoteVersionRow).where(
            NoteVersionRow.note_id == loaded.note.id, NoteVersionRow.version == number))).scalar_one_or_none()
        if row is None:
            raise NotFound("no such version")
        await self._record(session, actor, loaded.note, "read_version", why)
        return VersionInfo(row.version, _author(row), row.created_at, note_from_json(row.content))

    async def read_shared(self, session: AsyncSession, actor: Actor, booking_public_id: str) -> NoteView:
        """The signed note for a patient or relative of the consultation, once staff have shared it.

        The caller has established that the guest ``actor`` takes part in ``booking_public_id`` (their
        guest session is bound to that room); anything not signed and shared is "not found".
        """
        booking = await self._consultations.by_public_id(session, booking_public_id)
        note = None if booking is None else await self._note_for_booking(session, booking.id)
        if booking is None or note is None or actor.is_staff or not note.shared:
            raise NotFound("no shared note")
        loaded = _Loaded(note, booking, await self._patient(session, booking.patient_id), Relation(False, False))
        view = await self._view(session, actor, loaded)
        if view.state.signature is None:
            raise NotFound("no shared note")
        await self._record(session, actor, note, "read_shared", "shared summary")
        return view

    # -------------------------------------------------------------------------------------- writing

    async def save(self, session: AsyncSession, actor: Actor, note_id: str, *, based_on: int,
                   content: NoteContent | Submission, reason: str = "",
                   lang: Language = DEFAULT_LANGUAGE) -> SaveResult:
        """Merge ``content`` (edited from version ``based_on``) into the note and store a new version.

        ``content`` is the author's whole note as they see it: typed content (all valid), or a submission
        read part by part (:func:`notes.submission.read_submission`), whose invalid parts become the
        author's drafts while the valid ones are stored. The author's drafts are replaced by this save's:
        a part now valid (or removed) loses its draft. A part that would take the note past its size limit
        is kept as a draft too. Parts changed by one side merge; a part changed on both sides is returned
        as a conflict and the stored text is kept for it. Raises :class:`notes.errors.NoteLocked` for a
        signed note and :class:`UnknownVersion` for a version that does not exist.

        A save that arrives after somebody signed the note (its author was still typing) does not touch the
        signed content: every part the author changed becomes their draft amendment, as text in ``lang``
        (``SaveResult.after_signing`` names those parts), to read over and sign as an amendment.
        """
        submission = content if isinstance(content, Submission) else Submission.of(content)
        loaded = await self._load(session, actor, note_id)
        why = self._check(actor, loaded.relation, NoteAction.SAVE, reason)
        note = loaded.note
        base = await self._content_at(session, note.id, based_on)
        if await self._signed(session, note.id):
            return await self._keep_after_signing(session, actor, loaded, base, submission, lang, why)
        mine = submission.content_over(base)
        author = await self._person(session, actor)
        for _attempt in range(SAVE_ATTEMPTS):
            state = await self._state(session, note.id)
            outcome = editing.save(state, based_on=based_on, base=base, mine=mine)
            if not outcome.new_version:
                break
            try:
                # A savepoint, so losing the race for this version number undoes only this insert.
                async with session.begin_nested():
                    session.add(NoteVersionRow(
                        note_id=note.id, version=outcome.state.version, content=note_to_json(outcome.state.content),
                        author_id=author.id, author_name=author.name, author_profession=author.profession,
                        created_at=self._clock.now()))
            except IntegrityError:
                logger.info("note %s: version %d was taken by a concurrent save; merging again",
                            note.public_id, outcome.state.version)
                continue
            note.latest_version = outcome.state.version
            break
        else:
            raise UnknownVersion("the note keeps changing; reload it and save again",
                                 code="notes.save_contended")
        mine_parts = parts_of(mine)
        too_large = tuple(PartDraft(key, part_json(mine_parts[key]), (FieldError(
            "", "note_too_large", f"the note may hold at most {NOTE_TEXT_LIMIT} characters", NOTE_TEXT_LIMIT),))
            for key in outcome.too_large)
        await self._replace_drafts(session, note.id, author, (*submission.drafts, *too_large))
        await session.flush()
        await self._record(session, actor, note, "save", why)
        view = await self._view(session, actor, loaded)
        applied = outcome.merge.applied_mine if outcome.new_version else ()
        return SaveResult(view, outcome.new_version, outcome.conflicts, view.drafts,
                          applied=tuple(p for p in applied if p not in outcome.too_large))

    async def sign(self, session: AsyncSession, actor: Actor, note_id: str, reason: str = "") -> NoteView:
        """Sign the latest version, which locks the note; later changes are amendments."""
        loaded = await self._load(session, actor, note_id)
        why = self._check(actor, loaded.relation, NoteAction.SIGN, reason)
        blockers = await self._blockers(session, loaded.note.id)
        if blockers:
            raise SignBlocked(blockers)
        state = signing.sign(await self._state(session, loaded.note.id), await self._person(session, actor),
                             self._clock)
        sig = state.signature
        if sig is None:  # sign() always sets it; the check keeps the type narrow without an assert
            raise PermissionDenied("the note could not be signed")
        session.add(NoteSignatureRow(
            note_id=loaded.note.id, version=sig.version, content_hash=sig.content_hash, signer_id=sig.signer.id,
            signer_name=sig.signer.name, signer_profession=sig.signer.profession, signed_at=sig.signed_at))
        loaded.note.chain_hash = sig.content_hash
        await session.flush()
        await self._record(session, actor, loaded.note, "sign", why)
        return await self._view(session, actor, loaded)

    async def amend(self, session: AsyncSession, actor: Actor, note_id: str, *, part: str, text: str,
                    reason: str = "", draft: str | None = None) -> NoteView:
        """Add a signed amendment about ``part`` (a part key, a section or ``"note"``) to a signed note.

        ``draft`` names the author's draft amendment (kept from text written after signing) that this
        amendment settles; that draft is removed in the same unit of work.
        """
        loaded = await self._load(session, actor, note_id)
        why = self._check(actor, loaded.relation, NoteAction.AMEND, reason)
        state = signing.amend(await self._state(session, loaded.note.id), await self._person(session, actor),
                              part, text, self._clock)
        a = state.amendments[-1]
        session.add(NoteAmendmentRow(
            note_id=loaded.note.id, number=a.number, part=a.part, text=a.text, author_id=a.author.id,
            author_name=a.author.name, author_profession=a.author.profession, signed_at=a.signed_at,
            chain_hash=a.chain_hash))
        loaded.note.chain_hash = a.chain_hash
        if draft is not None:
            await session.execute(delete(NoteDraftRow).where(
                NoteDraftRow.note_id == loaded.note.id, NoteDraftRow.author_id == actor.id,
                NoteDraftRow.part == draft))
        await session.flush()
        await self._record(session, actor, loaded.note, "amend", why)
        return await self._view(session, actor, loaded)

    async def keep_amendment_draft(self, session: AsyncSession, actor: Actor, note_id: str, *, part: str,
                                   text: str, reason: str = "") -> NoteView:
        """Keep (or, for empty text, drop) the author's draft amendment of ``part`` on a signed note.

        What the author types after signing is stored as they type it, never cut: a text past the
        amendment limit is kept too and refused only when it is signed. Raises :class:`NotSigned` on a draft
        note (edit it instead) and :class:`InvalidAmendment` for a ``part`` no note has.
        """
        loaded = await self._load(session, actor, note_id)
        why = self._check(actor, loaded.relation, NoteAction.AMEND, reason)
        if not await self._signed(session, loaded.note.id):
            raise NotSigned("the note is not signed; edit it instead")
        if part != signing.WHOLE_NOTE and part not in signing.SECTIONS and not is_part_key(part):
            raise InvalidAmendment(f"{part[:40]!r} is not a part of a note", code="notes.amendment_unknown_part")
        await session.execute(delete(NoteDraftRow).where(
            NoteDraftRow.note_id == loaded.note.id, NoteDraftRow.author_id == actor.id, NoteDraftRow.part == part))
        if text.strip():
            author = await self._person(session, actor)
            session.add(self._after_signing_row(loaded.note.id, author, part, text))
        await session.flush()
        await self._record(session, actor, loaded.note, "save", why)
        return await self._view(session, actor, loaded)

    async def live_access(self, session: AsyncSession, actor: Actor, booking_public_id: str,
                          reason: str = "") -> LiveAccess:
        """Whether ``actor`` may have the consultation's note open live (as for reading it), who they are and
        what they may do; the note need not exist yet (editors meet before the first save creates it).

        Not audited: the live channel carries no health data (versions, part keys, who is present); the
        editor reads the note itself through :meth:`open_for_booking`, which is audited as every read.
        """
        booking, relation, _why = await self._booking_checked(session, actor, booking_public_id,
                                                              NoteAction.READ, reason)
        return LiveAccess(booking.public_id, await self._person(session, actor),
                          allowed(actor, relation, NoteAction.SAVE))

    async def live_access_by_note(self, session: AsyncSession, actor: Actor, note_id: str,
                                  reason: str = "") -> LiveAccess:
        """:meth:`live_access` for an existing note named by its own id (the socket address editors used
        before the channel was keyed by consultation)."""
        loaded = await self._load(session, actor, note_id)
        self._check(actor, loaded.relation, NoteAction.READ, reason)
        return LiveAccess(loaded.booking.public_id, await self._person(session, actor),
                          allowed(actor, loaded.relation, NoteAction.SAVE))

    async def _keep_after_signing(self, session: AsyncSession, actor: Actor, loaded: _Loaded, base: NoteContent,
                                  submission: Submission, lang: Language, why: str) -> SaveResult:
        """A save that came after signing: the author's changed parts become their draft amendments."""
        author = await self._person(session, actor)
        kept = changed_after(base, submission, lang)
        for part, text in kept:
            # The draft keeps the newest text of the part; a part kept earlier and not changed since stays.
            await session.execute(delete(NoteDraftRow).where(
                NoteDraftRow.note_id == loaded.note.id, NoteDraftRow.author_id == author.id,
                NoteDraftRow.part == part))
            session.add(self._after_signing_row(loaded.note.id, author, part, text))
        await session.flush()
        await self._record(session, actor, loaded.note, "save", why)
        view = await self._view(session, actor, loaded)
        return SaveResult(view, False, (), view.drafts, after_signing=tuple(part for part, _ in kept))

    def _after_signing_row(self, note_id: int, author: Person, part: str, text: str) -> NoteDraftRow:
        return NoteDraftRow(note_id=note_id, author_id=author.id, author_name=author.name, part=part,
                            content=_draft_json(text), errors=_draft_json(_errors_json((after_signing_error(),))),
                            updated_at=self._clock.now())

    async def set_shared(self, session: AsyncSession, actor: Actor, note_id: str, shared: bool,
                         reason: str = "") -> NoteView:
        """Share the signed summary with the patient and relatives (or stop sharing it)."""
        loaded = await self._load(session, actor, note_id)
        why = self._check(actor, loaded.relation, NoteAction.SHARE, reason)
        if shared and not await self._signed(session, loaded.note.id):
            raise ValidationFailed("only a signed note can be shared", {"shared": "note_not_signed"})
        loaded.note.shared = shared
        await session.flush()
        await self._record(session, actor, loaded.note, "share" if shared else "unshare", why)
        return await self._view(session, actor, loaded)

    # ------------------------------------------------------------------------------------- exports

    async def prepare_export(self, session: AsyncSession, actor: Actor, note_id: str, fmt: ExportFormat,
                             lang: Language = "nb", reason: str = "") -> ExportJob:
        """Check access, audit the export and read what it needs; rendering is left to the caller
        (:class:`notes.export_workers.ExportWorkers`), after this unit of work has ended."""
        loaded = await self._load(session, actor, note_id)
        why = self._check(actor, loaded.relation, NoteAction.EXPORT, reason)
        view = await self._view(session, actor, loaded)
        header = replace(view.header, export=await self._export_context(session, loaded, view.state))
        await self._record(session, actor, loaded.note, f"export:{fmt.value}", why)
        return ExportJob(fmt, header, view.state, lang, f"samkonsult-notat-{view.public_id}")

    async def _export_context(self, session: AsyncSession, loaded: _Loaded, state: NoteState) -> ExportContext:
        """The patient's identity and the consultation (when, where, who) for a record document.

        Only exports read these: the print page and the shared summary never show the identity number.
        """
        patient = loaded.patient
        try:
            is_d_number = parse_national_id(patient.national_id).is_d_number
        except InvalidNationalId:
            is_d_number = False  # stored before validation was strict; printed as stored all the same
        subject = ExportSubject(patient.given_name, patient.family_name, patient.birth_date, patient.national_id,
                                is_d_number)
        consultation = await self._consultations.details(session, loaded.booking.id)
        if consultation is None:
            raise NotFound(NO_SUCH_NOTE)
        known = {p.person_id for p in consultation.participants}
        writers = [*(a.author for a in state.amendments)]
        if state.signature is not None:
            writers.insert(0, state.signature.signer)
        rows = (await session.execute(select(NoteVersionRow.author_id).where(
            NoteVersionRow.note_id == loaded.note.id).distinct())).scalars().all()
        others: list[ExportParticipant] = []
        for person_id in [*rows, *(w.id for w in writers)]:
            if person_id in known:
                continue
            known.add(person_id)
            other = await self._staff_member(session, person_id)
            if other is not None:
                others.append(other)
        return ExportContext(subject, consultation, tuple(others))

    async def _staff_member(self, session: AsyncSession, person_id: str) -> ExportParticipant | None:
        """A staff member by their note id (``user:<id>``), with profession and organisation."""
        raw = person_id.removeprefix("user:")
        if not raw.isdigit():
            return None
        user = await session.get(User, int(raw))
        if user is None:
            return None
        org = user.organisation
        return ExportParticipant(person_id, user.display_name, profession_of(user.role.value, user.profession),
                                 ExportOrganisation(org.name, org.kind.value, org.code or ""),
                                 user.department.name if user.department is not None else "")

    # ------------------------------------------------------------------------------------ internals

    def _check(self, actor: Actor, relation: Relation, action: NoteAction, reason: str) -> str:
        """Raise unless allowed; return the reason for the log (participants need not give one)."""
        if not relation.any or not actor.is_staff:
            # Same answer as for a note that does not exist: ids must not be probed.
            raise NotFound(NO_SUCH_NOTE)
        if not allowed(actor, relation, action):
            raise PermissionDenied(f"your role may not {action.value} notes")
        reason = reason.strip()[:MAX_REASON]
        if relation.participant:
            return reason or "consultation participant"
        if not reason:
            raise ValidationFailed("state why you need the note", {"reason": "reason_required"})
        return reason

    async def _relation(self, session: AsyncSession, actor: Actor, booking: Consultation) -> Relation:
        if not actor.is_staff or actor.user_id is None:
            return Relation(False, False)
        participant = await self._consultations.takes_part(session, booking.id, actor.user_id)
        organisation = await self._patients.may_access(session, actor, booking.patient_id)
        return Relation(participant, organisation)

    async def _load(self, session: AsyncSession, actor: Actor, note_id: str) -> _Loaded:
        note = (await session.execute(select(NoteRow).where(NoteRow.public_id == note_id)
                                      .execution_options(populate_existing=True))).scalar_one_or_none()
        if note is None:
            raise NotFound(NO_SUCH_NOTE)
        booking = await self._consultations.by_id(session, note.booking_id)
        if booking is None:
            raise NotFound(NO_SUCH_NOTE)
        relation = await self._relation(session, actor, booking)
        return _Loaded(note, booking, await self._patient(session, note.patient_id), relation)

    async def _patient(self, session: AsyncSession, patient_id: int) -> Patient:
        patient = await session.get(Patient, patient_id)
        if patient is None:
            raise NotFound("no such patient")
        return patient

    async def _note_for_booking(self, session: AsyncSession, booking_id: int) -> NoteRow | None:
        return (await session.execute(select(NoteRow).where(NoteRow.booking_id == booking_id))).scalar_one_or_none()

    async def _create(self, session: AsyncSession, actor: Actor, booking: Consultation) -> NoteRow:
        author = await self._person(session, actor)
        state = editing.start_note()
        now = self._clock.now()
        note = NoteRow(public_id=secrets.token_urlsafe(16), booking_id=booking.id, patient_id=booking.patient_id,
                       latest_version=state.version, shared=False, chain_hash=None, created_at=now,
                       created_by_user_id=actor.user_id)
        try:
            async with session.begin_nested():
                session.add(note)
                await session.flush()
                session.add(NoteVersionRow(note_id=note.id, version=state.version, content=note_to_json(state.content),
                                           author_id=author.id, author_name=author.name,
                                           author_profession=author.profession, created_at=now))
        except IntegrityError:
            # Somebody saved the same consultation's first note at the same moment: theirs is the note.
            existing = await self._note_for_booking(session, booking.id)
            if existing is None:
                raise
            return existing
        return note

    async def _replace_drafts(self, session: AsyncSession, note_id: int, author: Person,
                              drafts: tuple[PartDraft, ...]) -> None:
        """The author's drafts become exactly ``drafts`` (each save carries the author's whole note)."""
        await session.execute(delete(NoteDraftRow).where(NoteDraftRow.note_id == note_id,
                                                         NoteDraftRow.author_id == author.id))
        now = self._clock.now()
        for d in drafts:
            session.add(NoteDraftRow(note_id=note_id, author_id=author.id, author_name=author.name, part=d.part,
                                     content=_draft_json(d.content), errors=_draft_json(_errors_json(d.errors)),
                                     updated_at=now))

    async def _drafts(self, session: AsyncSession, note_id: int, author_id: str | None = None
                      ) -> list[NoteDraftRow]:
        query = select(NoteDraftRow).where(NoteDraftRow.note_id == note_id).order_by(NoteDraftRow.id)
        if author_id is not None:
            query = query.where(NoteDraftRow.author_id == author_id)
        return list((await session.execute(query.execution_options(populate_existing=True))).scalars().all())

    async def _blockers(self, session: AsyncSession, note_id: int) -> tuple[SignBlocker, ...]:
        """Every author's outstanding problems, one per field error, in the order they were kept."""
        return tuple(SignBlocker(row.part, error, row.author_id, row.author_name)
                     for row in await self._drafts(session, note_id) for error in _errors_from(row.errors))

    async def _person(self, session: AsyncSession, actor: Actor) -> Person:
        profession = ""
        if actor.user_id is not None:
            user = await session.get(User, actor.user_id)
            profession = user.profession if user is not None else ""
        return Person(actor.id, actor.name, profession_of(actor.role, profession))

    async def _content_at(self, session: AsyncSession, note_id: int, version: int) -> NoteContent:
        row = (await session.execute(select(NoteVersionRow.content).where(
            NoteVersionRow.note_id == note_id, NoteVersionRow.version == version))).scalar_one_or_none()
        if row is None:
            raise UnknownVersion(f"version {version} does not exist")
        return note_from_json(row)

    async def _signed(self, session: AsyncSession, note_id: int) -> bool:
        return await session.get(NoteSignatureRow, note_id) is not None

    async def _state(self, session: AsyncSession, note_id: int) -> NoteState:
        """The latest state, read afresh (a concurrent writer may have committed since the last read)."""
        latest = (await session.execute(
            select(NoteVersionRow).where(NoteVersionRow.note_id == note_id)
            .order_by(NoteVersionRow.version.desc()).limit(1)
            .execution_options(populate_existing=True))).scalar_one()
        sig_row = (await session.execute(select(NoteSignatureRow).where(NoteSignatureRow.note_id == note_id)
                                         .execution_options(populate_existing=True))).scalar_one_or_none()
        signature = None
        content = note_from_json(latest.content)
        version = latest.version
        if sig_row is not None:
            signature = Signature(Person(sig_row.signer_id, sig_row.signer_name, sig_row.signer_profession),
                                  sig_row.signed_at, sig_row.version, sig_row.content_hash)
            # The signed version is the note; nothing is saved after signing, but read exactly that one.
            content = await self._content_at(session, note_id, sig_row.version)
            version = sig_row.version
        rows = (await session.execute(select(NoteAmendmentRow).where(NoteAmendmentRow.note_id == note_id)
                                      .order_by(NoteAmendmentRow.number))).scalars().all()
        amendments = tuple(
            Amendment(r.number, r.part, r.text, Person(r.author_id, r.author_name, r.author_profession),
                      r.signed_at, r.chain_hash) for r in rows)
        return NoteState(content=content, version=version, signature=signature, amendments=amendments)

    async def _view(self, session: AsyncSession, actor: Actor, loaded: _Loaded) -> NoteView:
        state = await self._state(session, loaded.note.id)
        authors_rows = (await session.execute(
            select(NoteVersionRow.author_id, NoteVersionRow.author_name, NoteVersionRow.author_profession)
            .where(NoteVersionRow.note_id == loaded.note.id).order_by(NoteVersionRow.version))).all()
        authors: dict[str, Person] = {}
        for author_id, name, profession in authors_rows:
            authors.setdefault(author_id, Person(author_id, name, profession))
        header = NoteHeader(
            note_id=loaded.note.public_id,
            # FHIR ids allow no "_"; "." never occurs in our ids, so the swap is reversible (as in web/fhir.py).
            subject=SubjectRef(reference=f"Patient/{loaded.patient.public_id.replace('_', '.')}",
                               display=loaded.patient.full_name),
            consultation_date=loaded.booking.start, authors=tuple(authors.values()),
            consultation_id=loaded.booking.public_id)
        expected_chain = state.amendments[-1].chain_hash if state.amendments else (
            state.signature.content_hash if state.signature else None)
        verified = signing.verify(state) and loaded.note.chain_hash == expected_chain
        permissions = frozenset(a for a in NoteAction if allowed(actor, loaded.relation, a))
        return NoteView(
            public_id=loaded.note.public_id, booking_public_id=loaded.booking.public_id,
            patient_id=loaded.patient.id, patient_public_id=loaded.patient.public_id,
            patient_name=loaded.patient.full_name, state=state, header=header, shared=loaded.note.shared,
            verified=verified, permissions=permissions, profession=(await self._person(session, actor)).profession,
            drafts=tuple(StoredDraft(row.part, json.loads(row.content), _errors_from(row.errors), row.updated_at)
                         for row in await self._drafts(session, loaded.note.id, actor.id)))

    async def _empty_view(self, session: AsyncSession, actor: Actor, booking: Consultation, patient: Patient,
                          relation: Relation) -> NoteView:
        """The note of a consultation nobody has saved one for: empty, version 0, no id, nothing stored."""
        state = NoteState(content=NoteContent(), version=0)
        header = NoteHeader(
            note_id="",
            subject=SubjectRef(reference=f"Patient/{patient.public_id.replace('_', '.')}", display=patient.full_name),
            consultation_date=booking.start, authors=(), consultation_id=booking.public_id)
        return NoteView(
            public_id=None, booking_public_id=booking.public_id, patient_id=patient.id,
            patient_public_id=patient.public_id, patient_name=patient.full_name, state=state, header=header,
            shared=False, verified=True, permissions=frozenset(a for a in NoteAction if allowed(actor, relation, a)),
            profession=(await self._person(session, actor)).profession)

    async def _record(self, session: AsyncSession, actor: Actor, note: NoteRow, action: str, reason: str) -> None:
        await self._audit.record(session, actor, action=action, object_type=OBJECT_TYPE, object_id=note.public_id,
                                 patient_id=note.patient_id, reason=reason)


def _draft_json(data: object) -> str:
    # ASCII-escaped: a lone surrogate or NUL someone pasted is kept as an escape, which every database takes.
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _errors_json(errors: tuple[FieldError, ...]) -> list[dict[str, object]]:
    return [{"field": e.path, "code": e.code, "message": e.message, "limit": e.limit} for e in errors]


def _errors_from(text: str) -> tuple[FieldError, ...]:
    return tuple(FieldError(str(e["field"]), str(e["code"]), str(e["message"]), e.get("limit"))
                 for e in json.loads(text))


def _author(row: NoteVersionRow) -> Person:
    return Person(row.author_id, row.author_name, row.author_profession)
