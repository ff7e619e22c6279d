"""A printable PDF of the note, with the same content as the text export, rendered with ``fpdf2``.

An export opens with the patient's identity (name, birth date, identity number in full) and the
consultation (when, what, where, who) in framed blocks; measures are a table (what, owner, start,
evaluation, status); every bow-tie is drawn with vector boxes and arrows as the editor draws it on
screen, shrunk to fit a page or split over pages; the signature and amendments close it, and every page
is numbered "Side 1 av N".

``fpdf2`` is imported only when a PDF is asked for, so the rest of the notes domain works without it and
a missing library is a clear :class:`PdfUnavailable` error rather than an import failure at start-up.

The built-in Helvetica font covers Latin-1 (Norwegian letters included); characters outside it (some Sami
letters, for example) print as ``?`` unless ``font_path`` names a Unicode TrueType font (DejaVu Sans, say),
which is then embedded. The PDF's dates come from the note, never the wall clock, so one state always
gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from notes.document import Document, Section, build_document
from notes.errors import NotesError
from notes.headings import DEFAULT_LANGUAGE, Language, label
from notes.model import Measure, NoteHeader, RiskAnalysis
from notes.render import format_date
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

    page_label = label(doc.lang, "page")

    class NotePdf(FPDF):  # type: ignore[misc]  # fpdf2 ships no type hints for subclassing
        def footer(self) -> None:
            # "Side 1 av 3": a filed document must show when a page is missing.
            self.set_y(-12)
            self.set_font(self.font_family, style="", size=8)
            self.cell(0, 5, page_label.format(page=self.page_no(), pages=_PAGES_ALIAS), align="C")

    pdf = NotePdf(orientation="portrait", unit="mm", format="A4")
    pdf.set_compression(compress)
    pdf.set_title(doc.title)
    pdf.set_lang(doc.lang)
    pdf.set_creator("Samkonsult")
    pdf.set_creation_date(created_at)
    pdf.alias_nb_pages(_PAGES_ALIAS)
    pdf.set_auto_page_break(auto=True, margin=_BOTTOM_MARGIN)
    if font_path is not None:
        for style in ("", "B", "I"):
            # One file for every style: a plain Unicode font beats a styled one that drops letters.
            pdf.add_font(_TTF_FAMILY, style=style, fname=str(font_path))
        family, clean = _TTF_FAMILY, _keep
    else:
        family, clean = _CORE_FONT, _latin1
    pdf.set_font(family, size=10)
    pdf.add_page()
    _Writer(pdf, doc, family, clean).document()
    return bytes(pdf.output())


_PAGES_ALIAS = "{nb}"
_BOTTOM_MARGIN = 15.0
_PT = 0.3528  # millimetres per point
_PAD = 1.2  # inside a box, mm
_GAP = 5.0  # between the bow-tie's columns, where its arrows run
_STACK_GAP = 2.0  # between boxes in one column


def _line_height(size: float) -> float:
    return size * _PT * 1.25

# The bow-tie's colours, as the editor draws it on screen (web/static/notes/notes.css).
_SIDE_FILL = (238, 242, 247)
_PROACTIVE_FILL = (230, 244, 234)
_REACTIVE_FILL = (253, 241, 227)
_KNOT_FILL = (59, 91, 125)
_LINE = (59, 91, 125)
_BORDER = (150, 160, 172)


@dataclass(frozen=True)
class _Box:
    """Text wrapped to a box's inner width, and the box's height at the font size it was wrapped for."""

    lines: tuple[str, ...]
    height: float


@dataclass(frozen=True)
class _Column:
    key: str
    title: str
    items: tuple[str, ...]
    fill: tuple[int, int, int]


class _Writer:
    """Lays one document out on the PDF: identity, consultation, sections, diagrams, tables, signature."""

    def __init__(self, pdf: Any, doc: Document, family: str, clean: Callable[[str], str]) -> None:
        self.pdf = pdf
        self.doc = doc
        self.family = family
        self.clean = clean
        self._widths: dict[tuple[str, str], float] = {}

    def measure(self, text: str) -> float:
        """Width of ``text`` in the current font: widths scale with the size, so one lookup per word and
        style serves every size (a note's bow-ties are measured at several sizes before one fits)."""
        pdf = self.pdf
        key = (pdf.font_style, text)
        unit = self._widths.get(key)
        if unit is None:
            unit = self._widths[key] = pdf.get_string_width(text) / pdf.font_size_pt
        return float(unit * pdf.font_size_pt)

    # ------------------------------------------------------------------------------------------- text

    def write(self, text: str, *, size: float, style: str = "", height: float = 5.5, indent: float = 0) -> None:
        pdf = self.pdf
        pdf.set_font(self.family, style=style, size=size)
        # Lines are broken here, one width lookup per distinct word: fpdf's multi_cell re-measures the
        # growing line at every character, which made a 1.5 MB note's PDF take minutes.
        width = pdf.w - pdf.r_margin - pdf.l_margin - indent - 2 * pdf.c_margin
        for line in wrap_lines(self.clean(text), width, self.measure):
            pdf.set_x(pdf.l_margin + indent)
            pdf.cell(0, height, line, new_x="LMARGIN", new_y="NEXT")

    def room_left(self) -> float:
        return float(self.pdf.h - _BOTTOM_MARGIN - self.pdf.get_y())

    def page_room(self) -> float:
        return float(self.pdf.h - _BOTTOM_MARGIN - self.pdf.t_margin)

    def need(self, height: float) -> None:
        """Start a new page unless ``height`` fits on this one."""
        if height > self.room_left():
            self.pdf.add_page()

    # --------------------------------------------------------------------------------------- document

    def document(self) -> None:
        doc = self.doc
        self.write(doc.title, size=16, style="B", height=9)
        if doc.identity:
            self.facts_box(label(doc.lang, "identity"), doc.identity, ())
        if doc.consultation:
            self.facts_box(label(doc.lang, "consultation"), doc.consultation, doc.participants)
        self.pdf.ln(1)
        for name, value in doc.meta:
            self.write(f"{name}: {value}", size=10)
        for section in doc.sections:
            self.pdf.ln(3)
            self.need(20)
            self.write(section.title, size=13, style="B", height=7)
            if section.key == "measures":
                self.measures_table(section)
                continue
            for block in section.blocks:
                if block.subtitle is not None:
                    self.need(12)
                    self.write(block.subtitle, size=11, style="B", height=6)
                if isinstance(block.value, RiskAnalysis):
                    self.bowtie(block.value)
                else:
                    for line in block.lines:
                        self.write(line, size=10)
                for line in block.amendments:
                    self.write(line, size=10, style="I", indent=5)
        self.pdf.ln(4)
        self.need(12)
        self.write(doc.signature_line, size=10, style="B")

    def facts_box(self, title: str, rows: tuple[tuple[str, str], ...], extra: tuple[str, ...]) -> None:
        """A framed block of facts (the patient's identity, the consultation): label column, value column."""
        pdf = self.pdf
        pdf.set_font(self.family, size=10)
        label_w, lh = 42.0, 5.0
        value_w = pdf.epw - label_w - 2 * _PAD
        lines: list[tuple[str, str, str]] = []  # (label, value line, style of the label)
        for name, value in rows:
            wrapped = wrap_lines(self.clean(value), value_w - 2 * pdf.c_margin, pdf.get_string_width)
            lines.extend((name if i == 0 else "", text, "B") for i, text in enumerate(wrapped))
        if extra:
            name = label(self.doc.lang, "consultation.participants")
            for i, person in enumerate(extra):
                wrapped = wrap_lines(self.clean(person), value_w - 2 * pdf.c_margin, pdf.get_string_width)
                lines.extend((name if i == 0 and j == 0 else "", text, "B") for j, text in enumerate(wrapped))
        height = 7 + len(lines) * lh + 2 * _PAD
        self.need(min(height, self.page_room()))
        top = pdf.get_y() + 1
        pdf.set_draw_color(*_BORDER)
        pdf.set_line_width(0.3)
        if height <= self.room_left():
            pdf.rect(pdf.l_margin, top, pdf.epw, height - 1)
        pdf.set_xy(pdf.l_margin + _PAD, top + _PAD)
        pdf.set_font(self.family, style="B", size=11)
        pdf.cell(0, 6, self.clean(title), new_x="LMARGIN", new_y="NEXT")
        for name, text, style in lines:
            pdf.set_x(pdf.l_margin + _PAD)
            pdf.set_font(self.family, style=style, size=10)
            pdf.cell(label_w, lh, self.clean(name))
            pdf.set_font(self.family, size=10)
            pdf.cell(value_w, lh, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(pdf.get_y() + _PAD + 1)

    # ---------------------------------------------------------------------------------------- measures

    def measures_table(self, section: Section) -> None:
        """Every measure as a row (what, owner, start, evaluation, status); amendments after the table."""
        lang = self.doc.lang
        widths = (64.0, 50.0, 23.0, 23.0, 30.0)
        heads = tuple(label(lang, k) for k in ("measure.what", "measure.responsible", "measure.start_date",
                                                "measure.evaluation_date", "measure.status"))
        rows: list[tuple[str, ...]] = []
        for block in section.blocks:
            if isinstance(block.value, Measure):
                m = block.value
                who = label(lang, "responsible." + m.responsible.kind.value)
                if m.responsible.name:
                    who = f"{who} ({m.responsible.name})"
                rows.append((m.what, who, format_date(m.start_date, lang) if m.start_date else "",
                             format_date(m.evaluation_date, lang) if m.evaluation_date else "",
                             label(lang, "measure_status." + m.status.value)))
        self.table(widths, heads, rows)
        for block in section.blocks:
            if block.amendments:
                if block.subtitle is not None:
                    self.write(block.subtitle, size=10, style="B")
                for line in block.amendments:
                    self.write(line, size=10, style="I", indent=5)

    def table(self, widths: tuple[float, ...], heads: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
        pdf = self.pdf
        size, lh = 9.0, 4.2

        def wrap(cells: tuple[str, ...], style: str) -> list[list[str]]:
            pdf.set_font(self.family, style=style, size=size)
            return [wrap_lines(self.clean(text), w - 2 * _PAD, self.measure)
                    for text, w in zip(cells, widths, strict=True)]

        head_lines = wrap(heads, "B")

        def draw(cells: list[list[str]], style: str, fill: bool) -> None:
            count = max(len(c) for c in cells)
            height = count * lh + 2 * _PAD
            x, y = pdf.l_margin, pdf.get_y()
            pdf.set_font(self.family, style=style, size=size)
            pdf.set_draw_color(*_BORDER)
            pdf.set_fill_color(*_SIDE_FILL)
            for lines, w in zip(cells, widths, strict=True):
                pdf.rect(x, y, w, height, style="DF" if fill else "D")
                for i, line in enumerate(lines):
                    pdf.set_xy(x + _PAD, y + _PAD + i * lh)
                    pdf.cell(w - 2 * _PAD, lh, line)
                x += w
            pdf.set_xy(pdf.l_margin, y + height)

        def header() -> None:
            draw(head_lines, "B", True)

        head_h = max(len(c) for c in head_lines) * lh + 2 * _PAD
        self.need(head_h + lh + 2 * _PAD)
        header()
        for row in rows:
            cells = wrap(row, "")
            while cells:
                fit = int((self.room_left() - 2 * _PAD) // lh)
                if fit < 1 or (max(len(c) for c in cells) > fit and fit < 4):
                    pdf.add_page()
                    header()
                    continue
                # A row taller than the page continues on the next one under the repeated heading.
                draw([c[:fit] for c in cells], "", False)
                cells = [c[fit:] for c in cells]
                if not any(cells):
                    break
                pdf.add_page()
                header()

    # ---------------------------------------------------------------------------------------- bow-tie

    def bowtie(self, risk: RiskAnalysis) -> None:
        """The bow-tie as the editor draws it: causes -> proactive measures -> the unwanted event -> reactive
        measures -> consequences, drawn with boxes and arrows; shrunk to fit a page, split over pages when
        even the smallest type does not fit."""
        lang = self.doc.lang
        columns = (
            _Column("causes", label(lang, "risk.causes"), risk.causes, _SIDE_FILL),
            _Column("proactive", label(lang, "risk.proactive_measures"), risk.proactive_measures, _PROACTIVE_FILL),
            _Column("event", label(lang, "risk.unwanted_event"), (risk.unwanted_event,), _KNOT_FILL),
            _Column("reactive", label(lang, "risk.reactive_measures"), risk.reactive_measures, _REACTIVE_FILL),
            _Column("consequences", label(lang, "risk.consequences"), risk.consequences, _SIDE_FILL),
        )
        page = self.page_room() - 8
        widths = self.column_widths()
        boxes: list[list[_Box]] = []
        size = 8.0
        for size in (8.0, 6.5, 5.5):
            boxes = [self.boxes(col.items, w, size, "B" if col.key == "event" else "")
                     for col, w in zip(columns, widths, strict=True)]
            height = self.diagram_height(boxes, size)
            if height <= page:
                self.need(height + 2)
                self.draw_bowtie(columns, boxes, size)
                return
        # Too many or too long items for one page even in small type: one diagram per page-full, the
        # event on each, every item on exactly one of them.
        parts = self.split(boxes, page - self.title_height(size))
        for number, part in enumerate(parts, start=1):
            self.need(self.diagram_height(part, size) + 8)
            self.write(label(lang, "risk.diagram_part").format(part=number, parts=len(parts)), size=9, style="I")
            self.draw_bowtie(columns, part, size)

    def column_widths(self) -> tuple[float, ...]:
        # Causes and consequences widest; gaps between columns carry the arrows.
        unit = (self.pdf.epw - 4 * _GAP) / 5.4
        return (unit * 1.15, unit * 1.05, unit * 1.0, unit * 1.05, unit * 1.15)

    def boxes(self, items: tuple[str, ...], width: float, size: float, style: str) -> list[_Box]:
        """Each item wrapped inside a box ``width`` wide, at ``size`` points."""
        pdf = self.pdf
        pdf.set_font(self.family, style=style, size=size)
        lh = _line_height(size)
        out: list[_Box] = []
        for item in items:
            lines = wrap_lines(self.clean(item), width - 2 * _PAD - 2 * pdf.c_margin, self.measure)
            out.append(_Box(tuple(lines), len(lines) * lh + 2 * _PAD))
        return out

    def title_height(self, size: float) -> float:
        return 2 * size * _PT * 1.25 + 2

    def diagram_height(self, boxes: list[list[_Box]], size: float) -> float:
        stacks = [sum(b.height for b in col) + _STACK_GAP * max(0, len(col) - 1) for col in boxes]
        return self.title_height(size) + max(stacks) + 2

    def draw_bowtie(self, columns: tuple[_Column, ...], boxes: list[list[_Box]], size: float) -> None:
        pdf = self.pdf
        lh = _line_height(size)
        widths = self.column_widths()
        xs: list[float] = []
        x = pdf.l_margin
        for w in widths:
            xs.append(x)
            x += w + _GAP
        top = pdf.get_y() + 1
        title_h = self.title_height(size)
        body_top = top + title_h
        stacks = [sum(b.height for b in col) + _STACK_GAP * max(0, len(col) - 1) for col in boxes]
        body_h = max(stacks)
        mid = body_top + body_h / 2
        previous = pdf.auto_page_break
        pdf.set_auto_page_break(False)  # the diagram was sized to fit; nothing in it may start a page
        # Column titles.
        pdf.set_font(self.family, style="B", size=size)
        for col, cx, w in zip(columns, xs, widths, strict=True):
            for i, line in enumerate(wrap_lines(self.clean(col.title), w - 2 * pdf.c_margin, pdf.get_string_width)[:2]):
                pdf.set_xy(cx, top + i * lh)
                pdf.cell(w, lh, line, align="C")
        # Where each box sits: every column's stack centred on the diagram's middle line.
        placed: list[list[tuple[float, _Box]]] = []
        for col_boxes, stack in zip(boxes, stacks, strict=True):
            y = mid - stack / 2
            row: list[tuple[float, _Box]] = []
            for box in col_boxes:
                row.append((y, box))
                y += box.height + _STACK_GAP
            placed.append(row)
        knot_left, knot_right = xs[2], xs[2] + widths[2]
        # Arrows first, so the barrier boxes (the measures) sit on the paths from causes to consequences.
        pdf.set_draw_color(*_LINE)
        pdf.set_fill_color(*_LINE)
        pdf.set_line_width(0.35)
        for y, box in placed[0]:
            self.arrow(xs[0] + widths[0], y + box.height / 2, knot_left, mid)
        for y, box in placed[4]:
            self.arrow(knot_right, mid, xs[4], y + box.height / 2)
        if not placed[0]:
            self.arrow(xs[1] - _GAP, mid, knot_left, mid)
        if not placed[4]:
            self.arrow(knot_right, mid, xs[4] + _GAP, mid)
        # Boxes with their text.
        pdf.set_line_width(0.25)
        for c, (col, cx, w) in enumerate(zip(columns, xs, widths, strict=True)):
            is_knot = col.key == "event"
            pdf.set_font(self.family, style="B" if is_knot else "", size=size)
            pdf.set_draw_color(*(_KNOT_FILL if is_knot else _BORDER))
            pdf.set_fill_color(*col.fill)
            pdf.set_text_color(*((255, 255, 255) if is_knot else (0, 0, 0)))
            for y, box in placed[c]:
                pdf.rect(cx, y, w, box.height, style="DF", round_corners=is_knot, corner_radius=2.5 if is_knot else 0)
                for i, line in enumerate(box.lines):
                    # text() rather than cell(): thousands of lines in a large note's bow-ties.
                    dx = (w - 2 * _PAD - self.measure(line)) / 2 if is_knot else pdf.c_margin
                    pdf.text(cx + _PAD + dx, y + _PAD + i * lh + lh * 0.75, line)
        pdf.set_text_color(0, 0, 0)
        pdf.set_auto_page_break(previous, margin=_BOTTOM_MARGIN)
        pdf.set_xy(pdf.l_margin, body_top + body_h + 3)

    def arrow(self, x1: float, y1: float, x2: float, y2: float) -> None:
        """A line from (x1, y1) to (x2, y2) with a filled head at the end."""
        pdf = self.pdf
        pdf.line(x1, y1, x2, y2)
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        head, half = 2.2, 1.0
        bx, by = x2 - ux * head, y2 - uy * head
        pdf.polygon([(x2, y2), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)], style="F")

    def split(self, boxes: list[list[_Box]], limit: float) -> list[list[list[_Box]]]:
        chunks: list[list[list[_Box]]] = []
        for col in boxes:
            groups: list[list[_Box]] = [[]]
            used = 0.0
            for box in col:
                if groups[-1] and used + _STACK_GAP + box.height > limit:
                    groups.append([])
                    used = 0.0
                used += box.height + (_STACK_GAP if groups[-1] else 0.0)
                groups[-1].append(box)
            chunks.append(groups)
        count = max(len(g) for g in chunks)
        event = chunks[2][0]
        return [[(event if c == 2 else (groups[i] if i < len(groups) else [])) for c, groups in enumerate(chunks)]
                for i in range(count)]

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


_TYPOGRAPHY = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"',
                             "\u201d": '"', "\u2026": "...", "\u2192": "->", "\u2022": "*"})


def _latin1(text: str) -> str:
    # The core fonts know only Latin-1: dashes, quotes and arrows people type become their plain forms,
    # anything else "?" rather than failing the whole export.
    return text.translate(_TYPOGRAPHY).encode("latin-1", "replace").decode("latin-1")


def _keep(text: str) -> str:
    return text
