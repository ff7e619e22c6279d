"""A save read part by part: one invalid part is kept as a draft and costs the others nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from notes import editing
from notes.codec import note_to_dict
from notes.errors import FieldError, InvalidNote
from notes.model import Measure, NoteContent, Responsible, ResponsibleKind, WhatMatters
from notes.submission import Submission, read_submission

WM = WhatMatters(own_words="Å bo hjemme", goals=("Gå tur",))
GOOD = Measure("m1", "Fysioterapi", Responsible(ResponsibleKind.HOME_CARE), date(2026, 12, 1), date(2027, 1, 5))


def document(**parts: Any) -> dict[str, Any]:
    doc: dict[str, Any] = note_to_dict(NoteContent())
    doc.update(parts)
    return doc


def measure(**fields: Any) -> dict[str, Any]:
    m = note_to_dict(NoteContent(measures=(GOOD,)))["measures"]
    assert isinstance(m, list) and isinstance(m[0], dict)
    return {**m[0], **fields}


def test_an_invalid_measure_becomes_a_draft_and_the_rest_is_read() -> None:
    bad = measure(id="m2", evaluation_date="2026-11-01")
    doc = document(what_matters={"own_words": WM.own_words, "goals": list(WM.goals)}, measures=[measure(), bad],
                   profession_texts=[{"profession": "physician", "text": "Legens vurdering"}])
    sub = read_submission(doc)
    assert list(sub.valid) == ["what_matters", "measures[m1]", "profession_text[physician]"]
    [draft] = sub.drafts
    assert draft.part == "measures[m2]" and draft.content == bad
    assert draft.errors == (FieldError("evaluation_date", "before_start",
                                       "the evaluation date is before the start date"),)


def test_a_draft_counts_as_unchanged_from_the_base() -> None:
    stored = Measure("m2", "Hjemmebesøk", Responsible(ResponsibleKind.GP))
    base = NoteContent(measures=(GOOD, stored))
    sub = read_submission(document(measures=[measure(what="Fysio 2x i uka"), measure(id="m2", what="")]))
    mine = sub.content_over(base)
    # The valid edit is taken; the invalid part keeps its stored text (and a new invalid part stays out).
    assert [m.what for m in mine.measures] == ["Fysio 2x i uka", "Hjemmebesøk"]
    assert read_submission(document(measures=[measure(id="m9", what="")])).content_over(base).measures == ()


def test_problems_are_relative_to_their_part_and_long_texts_name_their_limit() -> None:
    sub = read_submission(document(acp={"wishes_if_seriously_ill": "x" * 10_001, "hospital_admission": "",
                                        "end_of_life": "", "who_present": "", "palliative_plan": "",
                                        "talk_again_on": "i morgen"},
                                   assessment={"physical": {"mobility": "Rullator"}, "psychological": None,
                                               "cognitive": None, "psychosocial": None}))
    assert "assessment.physical" in sub.valid
    [draft] = sub.drafts
    assert draft.part == "acp"
    # Unreadable and rule-breaking fields are reported together, each once.
    assert {(e.path, e.code, e.limit) for e in draft.errors} == {
        ("wishes_if_seriously_ill", "too_long", 10_000), ("talk_again_on", "bad_date", None)}
    [bad_date] = read_submission(document(measures=[measure(start_date="1.12.2026")])).drafts
    assert [(e.path, e.code) for e in bad_date.errors] == [("start_date", "bad_date")]


@pytest.mark.parametrize("doc", [
    document(measures=[measure(id="")]),
    document(measures=[measure(), measure()]),
    document(extra=1),
    [],
])
def test_only_what_fits_no_part_is_refused_whole(doc: Any) -> None:
    with pytest.raises(InvalidNote):
        read_submission(doc)


def test_typed_content_is_all_valid() -> None:
    content = NoteContent(what_matters=WM, measures=(GOOD,))
    sub = Submission.of(content)
    assert not sub.drafts and sub.content_over(NoteContent()) == content


def test_growth_past_the_size_limit_is_left_out_and_named() -> None:
    start = editing.start_note(NoteContent(what_matters=WM))
    mine = NoteContent(what_matters=WM, measures=(GOOD, Measure("m2", "y" * 200, Responsible(ResponsibleKind.GP))))
    limit = 150
    outcome = editing.save(start, based_on=1, base=start.content, mine=mine,
                           limit=limit)
    assert outcome.too_large == ("measures[m2]",)
    assert [m.id for m in outcome.state.content.measures] == ["m1"] and outcome.new_version
    # Within the limit nothing is left out.
    roomy = editing.save(start, based_on=1, base=start.content, mine=mine, limit=10_000)
    assert roomy.too_large == () and len(roomy.state.content.measures) == 2
