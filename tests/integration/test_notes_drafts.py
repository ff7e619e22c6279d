"""Never lose a word, on SQLite and PostgreSQL: a save with one invalid measure stores every other part and
keeps the measure as its author's draft, read back in a new session; fixing it removes the draft."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from notes.codec import note_to_dict
from notes.errors import SignBlocked
from notes.model import AdvanceCarePlan, NoteContent, ProfessionText
from notes.models import NoteDraftRow
from notes.submission import read_submission
from server.platform.db import Database
from tests.integration.test_notes_service import RISK, WM, NotesWorld, _open, world  # noqa: F401

DOCTOR_TEXT = "Legens vurdering: stabil, men falltruet."
ACP = AdvanceCarePlan(wishes_if_seriously_ill="Vil helst være hjemme", palliative_plan="Lindrende plan ved behov")
BAD_MEASURE = {"id": "m1", "what": "Fysioterapi to ganger i uka", "responsible": {"kind": "home_care", "name": ""},
               "start_date": "2026-12-10", "evaluation_date": "2026-12-01", "status": "planned"}


def document(measure: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = note_to_dict(NoteContent(what_matters=WM, risks=(RISK,), acp=ACP,
                                                   profession_texts=(ProfessionText("physician", DOCTOR_TEXT),)))
    doc["measures"] = [measure]
    return doc


async def test_a_save_with_one_invalid_part_loses_nothing(db: Database, world: NotesWorld) -> None:  # noqa: F811
    note = (await _open(db, world)).public_id
    doctor = world.actors["lege"]
    async with db.session(write_lock=True) as session:
        result = await world.service.save(session, doctor, note, based_on=1, content=read_submission(
            document(BAD_MEASURE)))
    # Every valid part is in the new version; the measure is the doctor's draft, exactly as typed.
    assert result.new_version and result.view.version == 2
    stored = result.view.state.content
    assert (stored.what_matters, stored.risks, stored.acp) == (WM, (RISK,), ACP)
    assert stored.profession_texts == (ProfessionText("physician", DOCTOR_TEXT),) and stored.measures == ()
    [draft] = result.drafts
    assert draft.part == "measures[m1]" and draft.content == BAD_MEASURE
    assert [(e.path, e.code) for e in draft.errors] == [("evaluation_date", "before_start")]

    # A new session (a fresh browser, another day): all of it is there, the draft for its author only.
    async with db.session(write_lock=True) as session:
        again = await world.service.load(session, doctor, note)
        nurse = await world.service.load(session, world.actors["sykepleier.rodoy"], note)
    assert again.state.content == stored and [d.content for d in again.drafts] == [BAD_MEASURE]
    assert nurse.drafts == ()

    # Signing names exactly what blocks it, for anybody who tries.
    for who in ("lege", "sykepleier.rodoy"):
        async with db.session(write_lock=True) as session:
            with pytest.raises(SignBlocked) as info:
                await world.service.sign(session, world.actors[who], note)
        assert [(b.part, b.error.path, b.error.code, b.author_name) for b in info.value.blockers] == [
            ("measures[m1]", "evaluation_date", "before_start", doctor.name)]

    # Saving it again still wrong replaces the draft (one row); fixing it stores it and removes the draft.
    async with db.session(write_lock=True) as session:
        await world.service.save(session, doctor, note, based_on=2, content=read_submission(
            document({**BAD_MEASURE, "evaluation_date": "2026-12-02"})))
        assert await session.scalar(select(func.count()).select_from(NoteDraftRow)) == 1
    async with db.session(write_lock=True) as session:
        fixed = await world.service.save(session, doctor, note, based_on=2, content=read_submission(
            document({**BAD_MEASURE, "evaluation_date": "2027-01-10"})))
        assert await session.scalar(select(func.count()).select_from(NoteDraftRow)) == 0
    assert fixed.drafts == () and fixed.view.version == 3
    assert [m.evaluation_date.isoformat() for m in fixed.view.state.content.measures if m.evaluation_date] == [
        "2027-01-10"]
    async with db.session(write_lock=True) as session:
        signed = await world.service.sign(session, doctor, note)
    assert signed.state.signature is not None and signed.state.content.acp == ACP


async def test_text_no_database_takes_raw_is_kept_as_a_draft(db: Database, world: NotesWorld) -> None:  # noqa: F811
    """A NUL or a lone surrogate pasted into a field is a draft with its problem, not a database error."""
    note = (await _open(db, world)).public_id
    odd = "Før\x00etter \ud800 slutt"
    doc = document({**BAD_MEASURE, "evaluation_date": None})
    doc["profession_texts"] = [{"profession": "physician", "text": odd}]
    async with db.session(write_lock=True) as session:
        result = await world.service.save(session, world.actors["lege"], note, based_on=1,
                                          content=read_submission(doc))
    assert [d.part for d in result.drafts] == ["profession_text[physician]"]
    async with db.session(write_lock=True) as session:
        view = await world.service.load(session, world.actors["lege"], note)
    assert view.drafts[0].content == {"profession": "physician", "text": odd}
    assert len(view.state.content.measures) == 1


async def test_growth_past_the_note_limit_is_kept_as_a_draft(db: Database, world: NotesWorld) -> None:  # noqa: F811
    """The whole note holds at most NOTE_TEXT_LIMIT characters; a part that does not fit is kept, not cut."""
    note = (await _open(db, world)).public_id
    entry = "y" * 1_000
    # Each bow-tie holds 200 entries of 1000 characters: seven of them (1.4 million) fit, an eighth does not.
    risks = [{"id": f"r{i}", "unwanted_event": f"Hendelse {i}", "causes": [entry] * 50, "consequences": [entry] * 50,
              "proactive_measures": [entry] * 50, "reactive_measures": [entry] * 50} for i in range(8)]
    doc: dict[str, Any] = note_to_dict(NoteContent(what_matters=WM))
    doc["risks"] = risks[:7]
    async with db.session(write_lock=True) as session:
        first = await world.service.save(session, world.actors["lege"], note, based_on=1,
                                         content=read_submission(doc))
    assert first.drafts == () and len(first.view.state.content.risks) == 7
    doc["risks"] = risks
    async with db.session(write_lock=True) as session:
        second = await world.service.save(session, world.actors["lege"], note, based_on=2,
                                          content=read_submission(doc))
    assert not second.new_version and len(second.view.state.content.risks) == 7
    [draft] = second.drafts
    assert draft.part == "risks[r7]" and draft.content == risks[7]
    assert [(e.path, e.code, e.limit) for e in draft.errors] == [("", "note_too_large", 1_500_000)]
