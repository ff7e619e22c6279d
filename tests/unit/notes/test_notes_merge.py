"""Three-way merge per part: different parts merge, the same part conflicts, nothing is lost."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from notes.merge import changed_parts, merge, with_part
from notes.model import (
    AdvanceCarePlan,
    Measure,
    MeasureStatus,
    NoteContent,
    PhysicalFrailty,
    ProfessionText,
    Responsible,
    ResponsibleKind,
    RiskAnalysis,
    WhatMatters,
)
from notes.parts import PartValue, content_from_parts, parts_of
from tests.unit.notes.notes_testkit import ADDABLE_KEYS, notes, part_value, sample_note

BASE = sample_note()


def test_changes_to_different_parts_merge() -> None:
    theirs = replace(BASE, what_matters=WhatMatters("Å bo hjemme lengst mulig"))
    mine = replace(BASE, acp=replace(BASE.acp or AdvanceCarePlan(), who_present="Datteren og sønnen"))
    result = merge(BASE, theirs, mine)
    assert result.clean
    assert result.content.what_matters == theirs.what_matters
    assert result.content.acp == mine.acp
    assert result.applied_mine == ("acp",)
    assert result.kept_theirs == ("what_matters",)


def test_fields_of_the_assessment_are_separate_parts() -> None:
    a = BASE.assessment
    theirs = replace(BASE, assessment=replace(a, physical=replace(a.physical or PhysicalFrailty(), balance="Ustø")))
    mine = replace(BASE, assessment=replace(a, cognitive=None))
    result = merge(BASE, theirs, mine)
    assert result.clean
    assert result.content.assessment.physical == theirs.assessment.physical
    assert result.content.assessment.cognitive is None


def test_same_part_changed_on_both_sides_is_a_conflict_with_both_texts() -> None:
    theirs = replace(
        BASE, profession_texts=(ProfessionText("physician", "Seponer diuretika."), BASE.profession_texts[1])
    )
    mine = replace(BASE, profession_texts=(ProfessionText("physician", "Halver dosen."), BASE.profession_texts[1]))
    result = merge(BASE, theirs, mine)
    assert result.conflict_parts == ("profession_text[physician]",)
    conflict = result.conflicts[0]
    assert conflict.theirs == theirs.profession_texts[0]
    assert conflict.mine == mine.profession_texts[0]
    assert conflict.base == BASE.profession_texts[0]
    assert "Seponer diuretika." in conflict.theirs_text
    assert "Halver dosen." in conflict.mine_text
    assert "<diuretika>" in conflict.base_text
    assert conflict.texts("en")[0].startswith("Physician")
    # The stored text stays in the merged content: no silent overwrite either way.
    assert result.content == theirs


def test_both_sides_making_the_same_change_is_no_conflict() -> None:
    same = replace(BASE, what_matters=WhatMatters("Samme tekst"))
    result = merge(BASE, same, same)
    assert result.clean
    assert result.content == same


def test_adding_different_items_at_once_keeps_both() -> None:
    risk = RiskAnalysis("risk-lonely", "Ensomhet", causes=("Bor alene",))
    measure = Measure("m-3", "Dagsenter", Responsible(ResponsibleKind.HOME_CARE))
    other_measure = Measure("m-4", "Trygghetsalarm", Responsible(ResponsibleKind.HOME_CARE))
    theirs = replace(BASE, risks=(*BASE.risks, risk), measures=(*BASE.measures, measure))
    mine = replace(BASE, measures=(*BASE.measures, other_measure))
    result = merge(BASE, theirs, mine)
    assert result.clean
    assert [r.id for r in result.content.risks] == ["risk-fall", "risk-lonely"]
    assert [m.id for m in result.content.measures] == ["m-1", "m-2", "m-3", "m-4"]


def test_an_item_added_mid_list_keeps_its_place() -> None:
    new = Measure("m-0", "Først", Responsible(ResponsibleKind.GP))
    theirs = replace(BASE, measures=(*BASE.measures, Measure("m-9", "Sist", Responsible(ResponsibleKind.GP))))
    mine = replace(BASE, measures=(BASE.measures[0], new, BASE.measures[1]))
    result = merge(BASE, theirs, mine)
    assert [m.id for m in result.content.measures] == ["m-1", "m-0", "m-2", "m-9"]


def test_edit_against_delete_is_a_conflict_and_the_stored_side_stays() -> None:
    edited = replace(BASE.measures[0], status=MeasureStatus.STARTED)
    theirs = replace(BASE, measures=(BASE.measures[1],))
    mine = replace(BASE, measures=(edited, BASE.measures[1]))
    result = merge(BASE, theirs, mine)
    assert result.conflict_parts == ("measures[m-1]",)
    assert result.conflicts[0].theirs is None
    assert result.conflicts[0].mine == edited
    assert result.conflicts[0].theirs_text == ""
    assert result.content == theirs
    # ... and the other way round.
    reverse = merge(BASE, mine, theirs)
    assert reverse.conflicts[0].mine is None
    assert reverse.content == mine


def test_delete_of_an_untouched_item_is_applied() -> None:
    mine = replace(BASE, risks=())
    theirs = replace(BASE, what_matters=None)
    result = merge(BASE, theirs, mine)
    assert result.clean
    assert result.content == replace(BASE, risks=(), what_matters=None)


def test_a_save_from_an_older_version_never_removes_what_another_author_added_since() -> None:
    """A screen drawn from version N lacks what was saved after N: saving it keeps the other author's parts."""
    base = replace(BASE, profession_texts=(BASE.profession_texts[0],), what_matters=None)
    nurse = ProfessionText("nurse", "Kommer morgen og kveld.")
    theirs = replace(base, profession_texts=(*base.profession_texts, nurse), what_matters=WhatMatters("Å bo hjemme"))
    mine = replace(base, acp=replace(base.acp or AdvanceCarePlan(), who_present="Datteren"))
    result = merge(base, theirs, mine)
    assert result.clean
    assert result.content.profession_texts == theirs.profession_texts
    assert result.content.what_matters == WhatMatters("Å bo hjemme")
    assert result.content.acp == mine.acp
    assert set(result.kept_theirs) == {"profession_text[nurse]", "what_matters"}


def test_with_part_resolves_a_conflict() -> None:
    resolved = with_part(BASE, "profession_text[physician]", ProfessionText("physician", "Begge: seponer og halver."))
    assert resolved.profession_texts[0].text == "Begge: seponer og halver."
    assert changed_parts(BASE, resolved) == ("profession_text[physician]",)
    assert with_part(BASE, "acp", None).acp is None


def test_parts_round_trip() -> None:
    assert content_from_parts(parts_of(BASE)) == BASE
    assert parts_of(NoteContent()) == {}


@st.composite
def variant(draw: st.DrawFn, base: NoteContent) -> NoteContent:
    """The base with some parts kept, some edited, some deleted and some added, order kept."""
    parts: dict[str, PartValue] = {}
    for key, value in parts_of(base).items():
        choice = draw(st.sampled_from(["keep", "keep", "edit", "delete"]))
        if choice == "keep":
            parts[key] = value
        elif choice == "edit":
            parts[key] = draw(part_value(key))
    for key in draw(st.lists(st.sampled_from(ADDABLE_KEYS), max_size=4, unique=True)):
        if key not in parts_of(base):
            parts[key] = draw(part_value(key))
    return content_from_parts(parts)


@st.composite
def three_way(draw: st.DrawFn) -> tuple[NoteContent, NoteContent, NoteContent]:
    base = draw(notes())
    return base, draw(variant(base)), draw(variant(base))


@settings(max_examples=150, deadline=None)
@given(three_way())
def test_merge_never_loses_a_change_from_either_side(sides: tuple[NoteContent, NoteContent, NoteContent]) -> None:
    base, theirs, mine = sides
    result = merge(base, theirs, mine)
    b, t, m, r = parts_of(base), parts_of(theirs), parts_of(mine), parts_of(result.content)
    conflicts = {c.part: c for c in result.conflicts}
    for key in {*b, *t, *m}:
        if key in conflicts:
            c = conflicts[key]
            assert (c.base, c.theirs, c.mine) == (b.get(key), t.get(key), m.get(key))
            assert t.get(key) != b.get(key) and m.get(key) != b.get(key) and t.get(key) != m.get(key)
            assert r.get(key) == t.get(key)
            continue
        if t.get(key) != b.get(key):
            assert r.get(key) == t.get(key)
        if m.get(key) != b.get(key):
            assert r.get(key) == m.get(key)
        if t.get(key) == b.get(key) == m.get(key):
            assert r.get(key) == b.get(key)


@settings(max_examples=50, deadline=None)
@given(three_way())
def test_merge_against_an_unchanged_side_is_the_other_side(sides: tuple[NoteContent, NoteContent, NoteContent]) -> None:
    base, theirs, mine = sides
    assert merge(base, base, mine).content == mine
    assert merge(base, theirs, base).content == theirs
    assert merge(base, theirs, theirs).content == theirs
