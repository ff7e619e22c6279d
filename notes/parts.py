"""A note seen as a flat, ordered mapping of named parts.

A part is the unit of merging and of amendments. Its key is one of:

- ``what_matters``, ``acp``
- ``assessment.physical``, ``assessment.psychological``, ``assessment.cognitive``, ``assessment.psychosocial``
- ``risks[<id>]``, ``measures[<id>]``, ``readings[<id>]`` (one key per list item, by its stable id)
- ``profession_text[<profession>]``

An absent part (None, or an item not in its list) has no key. Mapping order is display order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TypeAlias

from notes.model import (
    AdvanceCarePlan,
    Assessment,
    CognitiveFrailty,
    Measure,
    NoteContent,
    PhysicalFrailty,
    ProfessionText,
    PsychologicalFrailty,
    PsychosocialFrailty,
    Reading,
    RiskAnalysis,
    WhatMatters,
)
from notes.validation import ID_PATTERN, PROFESSION_PATTERN

PartValue: TypeAlias = (
    WhatMatters
    | PhysicalFrailty
    | PsychologicalFrailty
    | CognitiveFrailty
    | PsychosocialFrailty
    | RiskAnalysis
    | Measure
    | AdvanceCarePlan
    | Reading
    | ProfessionText
)

WHAT_MATTERS = "what_matters"
ACP = "acp"
ASSESSMENT_KINDS = ("physical", "psychological", "cognitive", "psychosocial")
ASSESSMENT_PARTS = tuple(f"assessment.{kind}" for kind in ASSESSMENT_KINDS)
LIST_SECTIONS = ("risks", "measures", "readings")
PROFESSION_SECTION = "profession_text"
SINGLE_PARTS = (WHAT_MATTERS, *ASSESSMENT_PARTS, ACP)

_ITEM_KEY = re.compile(r"(risks|measures|readings|profession_text)\[([^\]]+)\]")


def item_key(section: str, item_id: str) -> str:
    """The part key of one item: ``item_key("measures", "m1") == "measures[m1]"``."""
    return f"{section}[{item_id}]"


def split_key(key: str) -> tuple[str, str | None]:
    """``"measures[m1]"`` → ``("measures", "m1")``; ``"acp"`` → ``("acp", None)``."""
    match = _ITEM_KEY.fullmatch(key)
    if match is None:
        return key, None
    return match.group(1), match.group(2)


def is_part_key(key: str) -> bool:
    """Whether ``key`` is a well-formed part key (the part need not exist in any note)."""
    if key in SINGLE_PARTS:
        return True
    section, item_id = split_key(key)
    if item_id is None:
        return False
    pattern = PROFESSION_PATTERN if section == PROFESSION_SECTION else ID_PATTERN
    return pattern.fullmatch(item_id) is not None


def parts_of(content: NoteContent) -> dict[str, PartValue]:
    """Every present part of the content, keyed and in display order."""
    out: dict[str, PartValue] = {}
    if content.what_matters is not None:
        out[WHAT_MATTERS] = content.what_matters
    a = content.assessment
    for kind, value in zip(ASSESSMENT_KINDS, (a.physical, a.psychological, a.cognitive, a.psychosocial), strict=True):
        if value is not None:
            out[f"assessment.{kind}"] = value
    for risk in content.risks:
        out[item_key("risks", risk.id)] = risk
    for measure in content.measures:
        out[item_key("measures", measure.id)] = measure
    if content.acp is not None:
        out[ACP] = content.acp
    for reading in content.readings:
        out[item_key("readings", reading.id)] = reading
    for text in content.profession_texts:
        out[item_key(PROFESSION_SECTION, text.profession)] = text
    return out


def content_from_parts(parts: Mapping[str, PartValue]) -> NoteContent:
    """The inverse of :func:`parts_of`: list items keep the mapping's order.

    A value whose type does not fit its key is a programming error, reported as ``TypeError``.
    """
    content = NoteContent()
    assessment = Assessment()
    risks: list[RiskAnalysis] = []
    measures: list[Measure] = []
    readings: list[Reading] = []
    texts: list[ProfessionText] = []
    for key, value in parts.items():
        section, _ = split_key(key)
        match section, value:
            case "what_matters", WhatMatters():
                content = replace(content, what_matters=value)
            case "assessment.physical", PhysicalFrailty():
                assessment = replace(assessment, physical=value)
            case "assessment.psychological", PsychologicalFrailty():
                assessment = replace(assessment, psychological=value)
            case "assessment.cognitive", CognitiveFrailty():
                assessment = replace(assessment, cognitive=value)
            case "assessment.psychosocial", PsychosocialFrailty():
                assessment = replace(assessment, psychosocial=value)
            case "acp", AdvanceCarePlan():
                content = replace(content, acp=value)
            case "risks", RiskAnalysis():
                risks.append(value)
            case "measures", Measure():
                measures.append(value)
            case "readings", Reading():
                readings.append(value)
            case "profession_text", ProfessionText():
                texts.append(value)
            case _:
                raise TypeError(f"part {key!r} cannot hold a {type(value).__name__}")
    return replace(
        content,
        assessment=assessment,
        risks=tuple(risks),
        measures=tuple(measures),
        readings=tuple(readings),
        profession_texts=tuple(texts),
    )
