"""Saving versions, signing (which locks) and signed amendments, as pure state transitions."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from notes.editing import save, start_note
from notes.errors import EmptyNote, InvalidAmendment, InvalidNote, NoteLocked, NotSigned, UnknownVersion
from notes.model import Measure, NoteContent, Responsible, ResponsibleKind, WhatMatters
from notes.signing import NoteState, NoteStatus, amend, content_hash, ensure_editable, sign, verify
from tests.unit.notes.notes_testkit import DOCTOR, NURSE, make_clock, sample_note


def signed() -> NoteState:
    return sign(NoteState(sample_note(), version=3), DOCTOR, make_clock())


def test_saves_add_versions_and_a_retried_save_adds_none() -> None:
    state = start_note()
    assert (state.version, state.status) == (1, NoteStatus.PRELIMINARY)
    first = save(state, based_on=1, base=state.content, mine=sample_note())
    assert first.new_version and first.state.version == 2
    retry = save(first.state, based_on=1, base=state.content, mine=sample_note())
    assert not retry.new_version and retry.state == first.state and not retry.conflicts


def test_concurrent_saves_merge_and_conflicts_come_back() -> None:
    v1 = save(start_note(), based_on=1, base=NoteContent(), mine=sample_note()).state
    nurse = replace(v1.content, what_matters=WhatMatters("Sykepleiers tekst"))
    doctor = replace(v1.content, what_matters=WhatMatters("Legens tekst"), acp=None)
    v2 = save(v1, based_on=2, base=v1.content, mine=nurse)
    v3 = save(v2.state, based_on=2, base=v1.content, mine=doctor)
    assert v3.state.version == 4
    assert v3.state.content.acp is None
    assert v3.state.content.what_matters == WhatMatters("Sykepleiers tekst")
    assert [c.part for c in v3.conflicts] == ["what_matters"]
    assert "Legens tekst" in v3.conflicts[0].mine_text


def test_save_rejects_unknown_versions_and_invalid_content() -> None:
    state = start_note()
    with pytest.raises(UnknownVersion) as info:
        save(state, based_on=2, base=NoteContent(), mine=sample_note())
    assert info.value.code == "notes.unknown_version"
    with pytest.raises(UnknownVersion):
        save(state, based_on=0, base=NoteContent(), mine=sample_note())
    bad = NoteContent(measures=(Measure("m", "", Responsible(ResponsibleKind.GP)),))
    with pytest.raises(InvalidNote):
        save(state, based_on=1, base=NoteContent(), mine=bad)


def test_signing_records_signer_time_version_and_hash_and_locks() -> None:
    clock = make_clock()
    state = sign(NoteState(sample_note(), version=3), DOCTOR, clock)
    assert state.signature is not None
    assert state.signature.signer == DOCTOR
    assert state.signature.signed_at == clock.now()
    assert state.signature.version == 3
    assert state.signature.content_hash == content_hash(sample_note())
    assert state.signature.content_hash.startswith("sha256:")
    assert state.locked and state.status is NoteStatus.FINAL
    assert verify(state)
    with pytest.raises(NoteLocked) as info:
        save(state, based_on=3, base=state.content, mine=NoteContent())
    assert info.value.code == "notes.locked"
    with pytest.raises(NoteLocked):
        ensure_editable(state)
    with pytest.raises(NoteLocked):
        sign(state, NURSE, clock)


def test_an_empty_or_invalid_note_cannot_be_signed() -> None:
    with pytest.raises(EmptyNote):
        sign(start_note(), DOCTOR, make_clock())
    bad = NoteContent(what_matters=WhatMatters("\x07"))
    with pytest.raises(InvalidNote):
        sign(NoteState(bad), DOCTOR, make_clock())


def test_amendments_are_signed_chained_and_kept_beside_the_original() -> None:
    clock = make_clock()
    state = signed()
    clock.advance(timedelta(days=1))
    state = amend(state, NURSE, "measures[m-1]", "Fastlegen har fått beskjed.", clock)
    clock.advance(timedelta(minutes=5))
    state = amend(state, DOCTOR, "note", "Pasienten ringte: ønsker oppfølging om 3 mnd.", clock)
    assert state.status is NoteStatus.AMENDED
    assert state.content == sample_note()
    first, second = state.amendments
    assert (first.number, first.part, first.author, first.signed_at) == (
        1,
        "measures[m-1]",
        NURSE,
        clock.now() - timedelta(minutes=5),
    )
    assert second.number == 2 and first.chain_hash != second.chain_hash
    assert state.amendments_to("measures[m-1]") == (first,)
    assert verify(state)


def test_tampering_is_detected() -> None:
    state = amend(amend(signed(), NURSE, "acp", "Tillegg.", make_clock()), DOCTOR, "note", "Mer.", make_clock())
    assert not verify(replace(state, content=replace(state.content, acp=None)))
    assert not verify(replace(state, amendments=(replace(state.amendments[0], text="Endret."), state.amendments[1])))
    assert not verify(replace(state, amendments=state.amendments[1:]))
    assert not verify(replace(state, signature=None))


def test_amending_needs_a_signed_note_a_text_and_a_real_part() -> None:
    clock = make_clock()
    with pytest.raises(NotSigned) as not_signed:
        amend(NoteState(sample_note()), NURSE, "acp", "x", clock)
    assert not_signed.value.code == "notes.not_signed"
    state = signed()
    for part, text, code in [
        ("acp", "  ", "notes.amendment_empty"),
        ("acp", "x" * 10_001, "notes.amendment_too_long"),
        ("acp", "bell\x07", "notes.amendment_bad_character"),
        ("measures[nope]", "x", "notes.amendment_unknown_part"),
        ("nonsense", "x", "notes.amendment_unknown_part"),
    ]:
        with pytest.raises(InvalidAmendment) as info:
            amend(state, NURSE, part, text, clock)
        assert info.value.code == code
    # A section, a part that was empty when signed, or a new profession's text are fine.
    for part in ("measures", "assessment.psychosocial", "profession_text[pharmacist]"):
        state = amend(state, NURSE, part, "Tillegg.", clock)
    assert len(state.amendments) == 3
