"""Plain text of one part, in Norwegian or English: shared by the text, PDF and FHIR exports and by conflicts.

Empty fields are left out, so a half-filled assessment reads as what was written, not as a form.
Times are shown in Europe/Oslo unless another zone is given.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, tzinfo
from decimal import Decimal

from notes.headings import DEFAULT_LANGUAGE, Language, label
from notes.model import (
    AdvanceCarePlan,
    CognitiveFrailty,
    Measure,
    PhysicalFrailty,
    ProfessionText,
    PsychologicalFrailty,
    PsychosocialFrailty,
    Reading,
    ReadingKind,
    RiskAnalysis,
    WhatMatters,
)
from notes.parts import PartValue
from server.people.vital_signs import screen_unit
from server.platform.local_time import OSLO


@dataclass(frozen=True)
class RenderedPart:
    """A part as a heading and its lines of plain text."""

    title: str
    lines: tuple[str, ...]

    def text(self) -> str:
        """The lines joined by newlines."""
        return "\n".join(self.lines)


def render_part(value: PartValue, lang: Language = DEFAULT_LANGUAGE, tz: tzinfo = OSLO) -> RenderedPart:
    """The heading and lines of one part."""
    match value:
        case WhatMatters():
            return RenderedPart(label(lang, "what_matters"), _what_matters(value, lang))
        case PhysicalFrailty():
            return RenderedPart(label(lang, "assessment.physical"), _fields(value, lang))
        case PsychologicalFrailty():
            return RenderedPart(label(lang, "assessment.psychological"), _fields(value, lang))
        case PsychosocialFrailty():
            return RenderedPart(label(lang, "assessment.psychosocial"), _fields(value, lang))
        case CognitiveFrailty():
            lines = [f"{label(lang, 'field.level')}: {label(lang, 'cognitive.' + value.level.value)}"]
            if value.comment:
                lines.append(f"{label(lang, 'field.comment')}: {value.comment}")
            return RenderedPart(label(lang, "assessment.cognitive"), tuple(lines))
        case RiskAnalysis():
            return RenderedPart(f"{label(lang, 'risk.unwanted_event')}: {value.unwanted_event}", _risk(value, lang))
        case Measure():
            return RenderedPart(value.what, _measure(value, lang))
        case AdvanceCarePlan():
            return RenderedPart(label(lang, "acp"), _acp(value, lang))
        case Reading():
            return RenderedPart(reading_name(value, lang), (reading_line(value, lang, tz),))
        case ProfessionText():
            return RenderedPart(profession_name(value.profession, lang), (value.text,))


def part_text(value: PartValue | None, lang: Language = DEFAULT_LANGUAGE, tz: tzinfo = OSLO) -> str:
    """A part as one text (heading, then its lines); empty for an absent part."""
    if value is None:
        return ""
    rendered = render_part(value, lang, tz)
    return "\n".join((rendered.title, *rendered.lines))


def reading_name(reading: Reading, lang: Language) -> str:
    """What was measured, in words."""
    if reading.kind is ReadingKind.OTHER:
        return reading.name
    return label(lang, "reading." + reading.kind.value)


def reading_value(reading: Reading, lang: Language) -> str:
    """The value with its unit, ``140/85 mmHg`` or ``37,2 °C``."""
    value = format_decimal(reading.value, lang)
    if reading.diastolic is not None:
        value = f"{value}/{format_decimal(reading.diastolic, lang)}"
    unit = screen_unit(reading.unit)
    return f"{value} {unit}".strip()


def reading_line(reading: Reading, lang: Language, tz: tzinfo = OSLO) -> str:
    """One reading as a line: name, value, unit, when and by whom."""
    when = format_time(reading.taken_at, lang, tz)
    by = f"{label(lang, 'reading.taken_by')} {reading.taken_by}"
    return f"{reading_name(reading, lang)}: {reading_value(reading, lang)} ({when}, {by})"


def profession_name(profession: str, lang: Language) -> str:
    """A profession slug in words; an unknown slug reads as itself with spaces."""
    return label(lang, "profession." + profession, profession.replace("_", " ").capitalize())


def format_date(day: date, lang: Language) -> str:
    """A date as people in that language write it."""
    return day.strftime(label(lang, "date_format"))


def format_time(moment: datetime, lang: Language, tz: tzinfo = OSLO) -> str:
    """An aware time in ``tz`` as people in that language write it."""
    return moment.astimezone(tz).strftime(label(lang, "time_format"))


def format_decimal(number: Decimal, lang: Language) -> str:
    """A decimal number with the language's decimal separator, never in exponent form."""
    return format(number, "f").replace(".", label(lang, "decimal_separator"))


def _what_matters(value: WhatMatters, lang: Language) -> tuple[str, ...]:
    lines: list[str] = []
    if value.own_words:
        lines.append(f"{label(lang, 'what_matters.own_words')}: {value.own_words}")
    lines.extend(_bullets(label(lang, "what_matters.goals"), value.goals))
    return tuple(lines)


def _fields(value: PhysicalFrailty | PsychologicalFrailty | PsychosocialFrailty, lang: Language) -> tuple[str, ...]:
    lines: list[str] = []
    for f in fields(value):
        text = str(getattr(value, f.name))
        if text:
            lines.append(f"{label(lang, 'field.' + f.name)}: {text}")
    return tuple(lines)


def _risk(value: RiskAnalysis, lang: Language) -> tuple[str, ...]:
    lines = _bullets(label(lang, "risk.causes"), value.causes)
    lines.extend(_bullets(label(lang, "risk.consequences"), value.consequences))
    lines.extend(_bullets(label(lang, "risk.proactive_measures"), value.proactive_measures))
    lines.extend(_bullets(label(lang, "risk.reactive_measures"), value.reactive_measures))
    return tuple(lines)


def _measure(value: Measure, lang: Language) -> tuple[str, ...]:
    who = label(lang, "responsible." + value.responsible.kind.value)
    if value.responsible.name:
        who = f"{who} ({value.responsible.name})"
    lines = [f"{label(lang, 'measure.responsible')}: {who}"]
    if value.start_date is not None:
        lines.append(f"{label(lang, 'measure.start_date')}: {format_date(value.start_date, lang)}")
    if value.evaluation_date is not None:
        lines.append(f"{label(lang, 'measure.evaluation_date')}: {format_date(value.evaluation_date, lang)}")
    lines.append(f"{label(lang, 'measure.status')}: {label(lang, 'measure_status.' + value.status.value)}")
    return tuple(lines)


def _acp(value: AdvanceCarePlan, lang: Language) -> tuple[str, ...]:
    lines: list[str] = []
    for f in fields(value):
        field_value = getattr(value, f.name)
        if isinstance(field_value, date):
            lines.append(f"{label(lang, 'acp.' + f.name)}: {format_date(field_value, lang)}")
        elif field_value:
            lines.append(f"{label(lang, 'acp.' + f.name)}: {field_value}")
    return tuple(lines)


def _bullets(heading: str, items: tuple[str, ...]) -> list[str]:
    if not items:
        return []
    return [f"{heading}:", *(f"  - {item}" for item in items)]
