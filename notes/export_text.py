"""A plain-text note fit to paste into a record system (EPJ): headings underlined, no markup.

Norwegian headings by default, English on request. Amendments stand under what they amend, and the
signature line closes the text.
"""

from __future__ import annotations

from datetime import tzinfo

from notes.document import Document, build_document
from notes.headings import DEFAULT_LANGUAGE, Language
from notes.model import NoteHeader
from notes.signing import NoteState
from server.platform.local_time import OSLO


def export_text(header: NoteHeader, state: NoteState, lang: Language = DEFAULT_LANGUAGE, tz: tzinfo = OSLO) -> str:
    """The note as plain text, lines ending in ``\\n``."""
    return render_text(build_document(header, state, lang, tz))


def render_text(doc: Document) -> str:
    """Plain text of a laid-out document."""
    out: list[str] = [doc.title.upper(), "=" * len(doc.title), ""]
    out.extend(f"{name}: {value}" for name, value in doc.meta)
    for section in doc.sections:
        out.extend(["", section.title, "-" * len(section.title)])
        for block in section.blocks:
            if block.subtitle is not None:
                out.append(f"* {block.subtitle}")
            out.extend(block.lines)
            out.extend(f"  > {line}" for line in block.amendments)
    out.extend(["", doc.signature_line])
    return "\n".join(out) + "\n"
