"""The hub of open editors: presence to everyone on each change, changes fanned out per note, bad parts refused."""

from __future__ import annotations

import pytest

from notes.after_signing import amendment_target, changed_after
from notes.live import (
    MAX_EDITORS_PER_NOTE,
    BadPart,
    ChangeKind,
    LiveEvent,
    NoteChanged,
    NoteHub,
    PresenceChanged,
    TooManyEditors,
)
from notes.model import Measure, NoteContent, Person, ProfessionText, Responsible, ResponsibleKind, WhatMatters
from notes.submission import read_submission

DOCTOR = Person("user:1", "Ingrid Hansen", "physician")
NURSE = Person("user:2", "Kari Nilsen", "nurse")


class Inbox:
    def __init__(self) -> None:
        self.events: list[LiveEvent] = []

    def deliver(self, event: LiveEvent) -> None:
        self.events.append(event)

    @property
    def last_presence(self) -> PresenceChanged:
        return [e for e in self.events if isinstance(e, PresenceChanged)][-1]


def test_presence_goes_to_everyone_and_only_on_change() -> None:
    hub = NoteHub()
    doctor, nurse = Inbox(), Inbox()
    d = hub.join("n1", DOCTOR, doctor, may_write=True)
    n = hub.join("n1", NURSE, nurse, may_write=True)
    assert [p.person.name for p in doctor.last_presence.editors] == ["Ingrid Hansen", "Kari Nilsen"]
    assert nurse.last_presence == doctor.last_presence
    hub.update("n1", n, part="profession_text[nurse]", typing=True, unsaved=True)
    [_, seen] = doctor.last_presence.editors
    assert (seen.part, seen.typing, seen.unsaved) == ("profession_text[nurse]", True, True)
    count = len(doctor.events)
    hub.update("n1", n, part="profession_text[nurse]", typing=True, unsaved=True)  # nothing new: no frame
    assert len(doctor.events) == count
    hub.leave("n1", n)
    assert [p.editor for p in doctor.last_presence.editors] == [d]
    hub.leave("n1", d)
    assert hub.present("n1") == ()


def test_changes_reach_the_open_editors_of_that_note_only() -> None:
    hub = NoteHub()
    here, elsewhere = Inbox(), Inbox()
    hub.join("n1", DOCTOR, here, may_write=True)
    hub.join("n2", NURSE, elsewhere, may_write=True)
    change = NoteChanged(ChangeKind.SAVED, 7, ("what_matters",), DOCTOR)
    assert hub.publish("n1", change) == 1
    assert here.events[-1] == change and change not in elsewhere.events
    assert hub.publish("gone", change) == 0


def test_bad_parts_and_too_many_editors_are_refused() -> None:
    hub = NoteHub()
    e = hub.join("n1", DOCTOR, Inbox(), may_write=True)
    for bad in ("kitchen", "measures[]", "x" * 300, "risks[a b]"):
        with pytest.raises(BadPart):
            hub.update("n1", e, part=bad, typing=False, unsaved=False)
    for good in (None, "acp", "measures", "measures[m1]", "assessment.physical"):
        hub.update("n1", e, part=good, typing=False, unsaved=False)
    for _ in range(MAX_EDITORS_PER_NOTE - 1):
        hub.join("n1", NURSE, Inbox(), may_write=True)
    with pytest.raises(TooManyEditors):
        hub.join("n1", NURSE, Inbox(), may_write=True)


def test_text_written_after_signing_becomes_draft_amendments() -> None:
    signed = NoteContent(what_matters=WhatMatters("Å bo hjemme"))
    doc = {"schema": 1, "what_matters": {"own_words": "Å bo hjemme", "goals": []},
           "profession_texts": [{"profession": "nurse", "text": "Sår på leggen."}],
           "measures": [{"id": "m1", "what": "Sårstell", "responsible": {"kind": "home_care", "name": ""},
                         "start_date": "2026-12-10", "evaluation_date": "2026-12-01", "status": "planned"}]}
    kept = dict(changed_after(signed, read_submission(doc)))
    assert kept == {"profession_text[nurse]": "Sår på leggen.", "measures[m1]": "Sårstell\n2026-12-10\n2026-12-01"}
    # An item the signed note lacks is amended through its section; a part it has, directly.
    assert amendment_target(signed, "measures[m1]") == "measures"
    assert amendment_target(signed, "profession_text[nurse]") == "profession_texts"
    assert amendment_target(signed, "what_matters") == "what_matters"
    with_text = NoteContent(profession_texts=(ProfessionText("nurse", "x"),), measures=(
        Measure("m1", "Sårstell", Responsible(ResponsibleKind.HOME_CARE)),))
    assert amendment_target(with_text, "profession_text[nurse]") == "profession_text[nurse]"
    assert amendment_target(with_text, "measures[m1]") == "measures[m1]"
