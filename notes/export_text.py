"""A plain-text note fit to paste into a record system (EPJ): headings underlined, no markup.

An export opens with the patient's identity (name, birth date, identity number) and the consultation
(when, what, where the patient was, who took part); bow-ties read as indented text from causes to
consequences.

Norwegian headings by default, English on request. Amendments stand under what they amend, and the
signature line closes the text.
"""

from __future__ import annotations

from datetime import tzinfo

from notes.document import Document, build_document
from notes.headings import DEFAULT_LANGUAGE, Language, label
from notes.model import NoteHeader
from notes.signing import NoteState
from server.platform.local_time import OSLO


def export_text(header: NoteHeader, state: NoteState, lang: Language = DEFAULT_LANGUAGE, tz: tzinfo = OSLO) -> str:
    """The note as plain text, lines ending in ``\\n``."""
    return render_text(build_document(header, state, lang, tz))


def render_text(doc: Document) -> str:
    """Plain text of a laid-out document."""
    out: list[str] = [doc.title.upper(), "=" * len(doc.title), ""]
    if doc.identity:
        out.extend(_heading(label(doc.lang, "identity")))
        out.extend(f"{name}: {value}" for name, value in doc.identity)
        out.append("")
    if doc.consultation:
        out.extend(_heading(label(doc.lang, "consultation")))
        out.extend(f"{name}: {value}" for name, value in doc.consultation)
        if doc.participants:
            out.append(f"{label(doc.lang, 'consultation.participants')}:")
            out.extend(f"  - {line}" for line in doc.participants)
        out.append("")
    out.extend(f"{name}: {value}" for name, value in doc.meta)
    for section in doc.sections:
        out.append("")
        out.extend(_heading(section.title))
        for block in section.blocks:
            if block.subtitle is not None:
                out.append(f"* {block.subtitle}")
            out.extend(block.lines)
            out.extend(f"  > {line}" for line in block.amendments)
    out.extend(["", doc.signature_line])
    return "\n".join(out) + "\n"


def _heading(title: str) -> list[str]:
    return [title, "-" * len(title)]
