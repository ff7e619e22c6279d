"""The note laid out for reading: sections of blocks of lines, in one language, amendments beside originals.

The text, PDF and FHIR exports all render this one layout, so they never disagree about what a note says.
Each amendment is placed under the part (or at the end of the section) it concerns, after the original
text; amendments about the whole note, or about a part that is empty, go to a final section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

from notes.headings import DEFAULT_LANGUAGE, Language, label
from notes.model import NoteContent, NoteHeader, Person, Reading
from notes.parts import ASSESSMENT_PARTS, PartValue, parts_of, split_key
from notes.render import format_time, profession_name, reading_line, render_part
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
    return Document(lang, label(lang, "title"), _meta(header, state, lang, tz), tuple(sections), _sig(state, lang, tz))


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
    return Block(part_key, rendered.title, rendered.lines, amendments)


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
    return (
        (label(lang, "patient"), patient),
        (label(lang, "date"), format_time(header.consultation_date, lang, tz)),
        (label(lang, "authors"), ", ".join(person_text(p, lang) for p in header.authors)),
        (label(lang, "status"), label(lang, "status." + state.status.value)),
    )


def _sig(state: NoteState, lang: Language, tz: tzinfo) -> str:
    s = state.signature
    if s is None:
        return label(lang, "unsigned")
    return (
        f"{label(lang, 'signature')}: {person_text(s.signer, lang)}, {format_time(s.signed_at, lang, tz)}, "
        f"{label(lang, 'signature.version')} {s.version}, {label(lang, 'signature.hash')} {s.content_hash}"
    )
