"""A printable PDF of the note, with the same content as the text export, rendered with ``fpdf2``.

``fpdf2`` is imported only when a PDF is asked for, so the rest of the notes domain works without it and
a missing library is a clear :class:`PdfUnavailable` error rather than an import failure at start-up.

The built-in Helvetica font covers Latin-1 (Norwegian letters included); characters outside it (some Sami
letters, for example) print as ``?`` unless ``font_path`` names a Unicode TrueType font (DejaVu Sans, say),
which is then embedded. The PDF's dates come from the note, never the wall clock, so one state always
gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path

from notes.document import Document, build_document
from notes.errors import NotesError
from notes.headings import DEFAULT_LANGUAGE, Language
from notes.model import NoteHeader
from notes.signing import NoteState
from server.platform.local_time import OSLO

_CORE_FONT = "Helvetica"
_TTF_FAMILY = "NoteFont"


class PdfUnavailable(NotesError):
    """The PDF library is not installed on this server."""

    code = "notes.pdf_unavailable"


def pdf_available() -> bool:
    """Whether PDFs can be made here."""
    try:
        import fpdf  # noqa: F401
    except ImportError:
        return False
    return True


def export_pdf(
    header: NoteHeader,
    state: NoteState,
    lang: Language = DEFAULT_LANGUAGE,
    tz: tzinfo = OSLO,
    *,
    font_path: Path | None = None,
    compress: bool = True,
) -> bytes:
    """The note as an A4 PDF. ``compress=False`` leaves page streams readable (for tests and debugging)."""
    doc = build_document(header, state, lang, tz)
    created = state.signature.signed_at if state.signature else header.consultation_date
    return _render(doc, created_at=created, font_path=font_path, compress=compress)


def _render(doc: Document, *, created_at: datetime, font_path: Path | None, compress: bool) -> bytes:
    try:
        from fpdf import FPDF
    except ImportError as exc:
        raise PdfUnavailable("PDF export needs the fpdf2 package") from exc

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_compression(compress)
    pdf.set_title(doc.title)
    pdf.set_lang(doc.lang)
    pdf.set_creator("Samkonsult")
    pdf.set_creation_date(created_at)
    pdf.set_auto_page_break(auto=True, margin=15)
    if font_path is not None:
        for style in ("", "B", "I"):
            # One file for every style: a plain Unicode font beats a styled one that drops letters.
            pdf.add_font(_TTF_FAMILY, style=style, fname=str(font_path))
        family, clean = _TTF_FAMILY, _keep
    else:
        family, clean = _CORE_FONT, _latin1
    pdf.add_page()

    def write(text: str, *, size: float, style: str = "", height: float = 5.5, indent: float = 0) -> None:
        pdf.set_font(family, style=style, size=size)
        # Lines are broken here, one width lookup per distinct word: fpdf's multi_cell re-measures the
        # growing line at every character, which made a 1.5 MB note's PDF take minutes.
        width = pdf.w - pdf.r_margin - pdf.l_margin - indent - 2 * pdf.c_margin
        for line in wrap_lines(clean(text), width, pdf.get_string_width):
            pdf.set_x(pdf.l_margin + indent)
            pdf.cell(0, height, line, new_x="LMARGIN", new_y="NEXT")

    write(doc.title, size=16, style="B", height=9)
    for name, value in doc.meta:
        write(f"{name}: {value}", size=10)
    for section in doc.sections:
        pdf.ln(3)
        write(section.title, size=13, style="B", height=7)
        for block in section.blocks:
            if block.subtitle is not None:
                write(block.subtitle, size=11, style="B", height=6)
            for line in block.lines:
                write(line, size=10)
            for line in block.amendments:
                write(line, size=10, style="I", indent=5)
    pdf.ln(4)
    write(doc.signature_line, size=10, style="B")
    return bytes(pdf.output())


def wrap_lines(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """``text`` broken into lines no wider than ``width``: at spaces where possible, inside a word only
    when the word alone is wider than a line; the text's own line breaks are kept (an empty line too)."""
    widths: dict[str, float] = {}

    def width_of(word: str) -> float:
        if word not in widths:
            widths[word] = measure(word)
        return widths[word]

    space = measure(" ")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        used = 0.0
        for word in paragraph.split(" "):
            w = width_of(word)
            if line and used + space + w > width:
                lines.append(" ".join(line))
                line, used = [], 0.0
            while w > width:  # a word longer than a line: as many letters as fit, then the rest
                cut = _fitting_prefix(word, width, measure)
                lines.append(word[:cut])
                word = word[cut:]
                w = measure(word)
            used += (space if line else 0.0) + w
            line.append(word)
        lines.append(" ".join(line))
    return lines


def _fitting_prefix(word: str, width: float, measure: Callable[[str], float]) -> int:
    low, high = 1, len(word)  # at least one letter per line, however narrow the line
    while low < high:
        mid = (low + high + 1) // 2
        if measure(word[:mid]) <= width:
            low = mid
        else:
            high = mid - 1
    return low


def _latin1(text: str) -> str:
    # The core fonts know only Latin-1; anything else becomes "?" rather than failing the whole export.
    return text.encode("latin-1", "replace").decode("latin-1")


def _keep(text: str) -> str:
    return text
