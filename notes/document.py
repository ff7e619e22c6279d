"""The note laid out for reading: sections of blocks of lines, in one language, amendments beside originals.

The text, PDF and FHIR exports all render this one layout, so they never disagree about what a note says.
Each amendment is placed under the part (or at the end of the section) it concerns, after the original
text; amendments about the whole note, or about a part that is empty, go to a final section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from notes.headings import DEFAULT_LANGUAGE, Language, label
from notes.model import (
    ExportParticipant,
    ExportPlace,
    NoteContent,
    NoteHeader,
    Person,
    PlaceKind,
    Reading,
    RiskAnalysis,
)
from notes.parts import ASSESSMENT_PARTS, PartValue, parts_of, split_key
from notes.render import format_date, format_time, profession_name, reading_line, render_part
from notes.signing import Amendment, NoteState
from server.platform.local_time import OSLO

# Display sections in order, with the part sections that feed each.
_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("what_matters", ("what_matters",)),
    ("assessment", ASSESSMENT_PARTS),
    ("risks", ("risks",)),
    ("measures", ("measures",)),
    ("acp", ("acp",)),
    ("readings", ("readings",)),
    ("profession_texts", ("profession_text",)),
)
AMENDMENTS_SECTION = "amendments"


@dataclass(frozen=True)
class Block:
    """One part: an optional subtitle, its lines, then the lines of its amendments."""

    part: str
    subtitle: str | None
    lines: tuple[str, ...]
    amendments: tuple[str, ...] = ()
    value: PartValue | None = None
    """The part itself, for renderers that draw it (the PDF's bow-tie diagrams and measures table)."""


@dataclass(frozen=True)
class Section:
    """A heading and its blocks; ``key`` is stable across languages (``what_matters``, ``amendments``...)."""

    key: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """A whole note ready to print."""

    lang: Language
    title: str
    meta: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    signature_line: str
    identity: tuple[tuple[str, str], ...] = ()
    """The patient's name, birth date and identity number; only in exports (the header's ``export``)."""
    consultation: tuple[tuple[str, str], ...] = ()
    """When, what and where; only in exports."""
    participants: tuple[str, ...] = ()
    """Who took part, one line each: name, profession, department, organisation; only in exports."""


def build_document(
    header: NoteHeader, state: NoteState, lang: Language = DEFAULT_LANGUAGE, tz: tzinfo = OSLO
) -> Document:
    """Lay out ``state`` for reading in ``lang``, times in ``tz``."""
    parts = parts_of(state.content)
    placed: set[int] = set()
    sections: list[Section] = []
    for key, part_sections in _SECTIONS:
        blocks: list[Block] = []
        for part_key, value in parts.items():
            if split_key(part_key)[0] in part_sections:
                own = _amendments(state, _about(part_key), placed, lang, tz)
                blocks.append(_block(part_key, value, own, lang, tz))
        if not blocks:
            continue
        section_amendments = _amendments(state, _about(key), placed, lang, tz)
        if section_amendments:
            blocks.append(Block(key, label(lang, "amendment"), (), section_amendments))
        sections.append(Section(key, label(lang, key), tuple(blocks)))
    rest = _amendments(state, _anything, placed, lang, tz)
    if rest:
        sections.append(Section(AMENDMENTS_SECTION, label(lang, "amendments"), (Block("note", None, (), rest),)))
    identity, consultation, participants = _export_facts(header, lang, tz)
    return Document(lang, label(lang, "title"), _meta(header, state, lang, tz), tuple(sections), _sig(state, lang, tz),
                    identity, consultation, participants)


def person_text(person: Person, lang: Language) -> str:
    """``Name (Profession)``, or the name alone."""
    if person.profession:
        return f"{person.name} ({profession_name(person.profession, lang)})"
    return person.name


def _about(part: str) -> Callable[[Amendment], bool]:
    return lambda a: a.part == part


def _anything(_: Amendment) -> bool:
    return True


def _block(part_key: str, value: PartValue, amendments: tuple[str, ...], lang: Language, tz: tzinfo) -> Block:
    section, _ = split_key(part_key)
    if isinstance(value, Reading):
        # Readings read best as one line each, without a subtitle per reading.
        return Block(part_key, None, (reading_line(value, lang, tz),), amendments)
    rendered = render_part(value, lang, tz)
    if section in ("what_matters", "acp"):
        return Block(part_key, None, rendered.lines, amendments)
    if isinstance(value, RiskAnalysis):
        return Block(part_key, rendered.title, bowtie_lines(value, lang), amendments, value)
    return Block(part_key, rendered.title, rendered.lines, amendments, value)


def bowtie_lines(risk: RiskAnalysis, lang: Language) -> tuple[str, ...]:
    """The bow-tie as indented plain text, read from top to bottom as the diagram reads left to right:
    causes, the proactive measures on the way to the unwanted event, the event, the reactive measures on
    the way to the consequences, the consequences. ASCII only, so every record system's import keeps it."""
    lines: list[str] = [f"{label(lang, 'risk.causes')}:"]
    lines.extend(f"  - {item}" for item in risk.causes)
    lines.append("      |")
    lines.append(f"      | {label(lang, 'risk.proactive_measures')}:")
    lines.extend(f"      |   - {item}" for item in risk.proactive_measures)
    lines.append("      v")
    lines.append(f"  [ {label(lang, 'risk.unwanted_event')}: {risk.unwanted_event} ]")
    lines.append("      |")
    lines.append(f"      | {label(lang, 'risk.reactive_measures')}:")
    lines.extend(f"      |   - {item}" for item in risk.reactive_measures)
    lines.append("      v")
    lines.append(f"{label(lang, 'risk.consequences')}:")
    lines.extend(f"  - {item}" for item in risk.consequences)
    return tuple(lines)


def time_range(start: datetime, end: datetime, lang: Language, tz: tzinfo = OSLO) -> str:
    """``01.12.2026 kl. 10.00-10.45``; both in full when the consultation runs past midnight."""
    if start.astimezone(tz).date() == end.astimezone(tz).date():
        return f"{format_time(start, lang, tz)}-{end.astimezone(tz).strftime(label(lang, 'clock_format'))}"
    return f"{format_time(start, lang, tz)} - {format_time(end, lang, tz)}"


def participant_text(p: ExportParticipant, lang: Language) -> str:
    """``Ingrid Hansen, Lege, Geriatri, Helgelandssykehuset``: what a record system needs to know who."""
    parts = [p.name, profession_name(p.profession, lang) if p.profession else "", p.department,
             p.organisation.name if p.organisation is not None else ""]
    return ", ".join(part for part in parts if part)


def place_text(place: ExportPlace, lang: Language) -> str:
    """Where the patient took part from, in words."""
    if place.kind is PlaceKind.HOME:
        return label(lang, "place.home")
    if place.kind is PlaceKind.UNKNOWN:
        return label(lang, "place.unknown")
    where = [place.name, place.address, place.municipality.name if place.municipality is not None else ""]
    return f"{label(lang, 'place.health_room')}: " + ", ".join(w for w in where if w)


def _export_facts(header: NoteHeader, lang: Language, tz: tzinfo) -> tuple[
        tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], tuple[str, ...]]:
    facts = header.export
    if facts is None:
        return (), (), ()
    patient, consultation = facts.patient, facts.consultation
    id_label = "identity.d_number" if patient.is_d_number else "identity.national_id"
    identity = (
        (label(lang, "identity.name"), patient.full_name),
        (label(lang, "identity.birth_date"), format_date(patient.birth_date, lang)),
        (label(lang, id_label), patient.national_id),
    )
    rows = [(label(lang, "consultation.time"), time_range(consultation.start, consultation.end, lang, tz))]
    if consultation.consultation_type:
        rows.append((label(lang, "consultation.type"), consultation.consultation_type))
    rows.append((label(lang, "consultation.form"), label(lang, "consultation.video")))
    rows.append((label(lang, "consultation.place"), place_text(consultation.place, lang)))
    participants = tuple(participant_text(p, lang) for p in consultation.participants)
    return identity, tuple(rows), participants


def _amendments(
    state: NoteState, wanted: Callable[[Amendment], bool], placed: set[int], lang: Language, tz: tzinfo
) -> tuple[str, ...]:
    lines: list[str] = []
    for a in state.amendments:
        if a.number in placed or not wanted(a):
            continue
        placed.add(a.number)
        lines.extend(_amendment_lines(a, state.content, lang, tz))
    return tuple(lines)


def part_label(part: str, content: NoteContent, lang: Language) -> str:
    """A part key in words: ``measures[m1]`` → ``Tiltak: Legemiddelgjennomgang``; ``note`` → the whole note."""
    if part == "note":
        return label(lang, "amendment.whole_note")
    section, item = split_key(part)
    if item is None:
        return label(lang, part)
    value = parts_of(content).get(part)
    if section == "profession_text":
        name = profession_name(item, lang)
    elif value is not None:
        name = render_part(value, lang).title
    else:
        name = item
    return f"{label(lang, section if section != 'profession_text' else 'profession_texts')}: {name}"


def _amendment_lines(a: Amendment, content: NoteContent, lang: Language, tz: tzinfo) -> list[str]:
    about = part_label(a.part, content, lang)
    head = (
        f"{label(lang, 'amendment')} {a.number} ({format_time(a.signed_at, lang, tz)}, "
        f"{label(lang, 'by')} {person_text(a.author, lang)}; {label(lang, 'amendment.to')} {about}):"
    )
    return [head, *a.text.splitlines()]


def _meta(header: NoteHeader, state: NoteState, lang: Language, tz: tzinfo) -> tuple[tuple[str, str], ...]:
    patient = header.subject.display or header.subject.reference
    rows = (
        (label(lang, "patient"), patient),
        (label(lang, "date"), format_time(header.consultation_date, lang, tz)),
        (label(lang, "authors"), ", ".join(person_text(p, lang) for p in header.authors)),
        (label(lang, "status"), label(lang, "status." + state.status.value)),
    )
    # An export names the patient and the time in its identity and consultation blocks instead.
    return rows[2:] if header.export is not None else rows


def _sig(state: NoteState, lang: Language, tz: tzinfo) -> str:
    s = state.signature
    if s is None:
        return label(lang, "unsigned")
    return (
        f"{label(lang, 'signature')}: {person_text(s.signer, lang)}, {format_time(s.signed_at, lang, tz)}, "
        f"{label(lang, 'signature.version')} {s.version}, {label(lang, 'signature.hash')} {s.content_hash}"
    )
