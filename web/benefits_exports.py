"""The benefits report as files a team leader puts in a report: CSV, XLSX and PDF.

All three are written from the same :class:`~web.benefits_view.ReportView` as the page, so a hidden
cell reads "<5" in each of them. CSV is UTF-8 with a byte-order mark and ``;`` between fields, which is
what Excel set up for Norway expects (æ, ø and å survive; the decimal comma does not clash).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import xlsxwriter

from web.benefits_view import Cell, Chart, ReportView, Table, cell_text, plain_number
from web.i18n import current_language
from web.i18n import gettext as _


def _heading_rows(view: ReportView) -> list[list[str]]:
    rows = [[view.title], [_("Period"), view.period_text]]
    rows += [[label, value] for label, value in view.filters]
    return rows


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    """A name as text: one that Excel would take for a formula ("=...", "@...") gets a leading apostrophe,
    so a municipality or type named by an administrator can never run as one when the file is opened."""
    return "'" + value if value.startswith(_FORMULA_START) else value


class _TextWriter:
    """csv.writer whose first column (names and headings, never our numbers) is guarded by :func:`_text`."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out, delimiter=";", lineterminator="\r\n")

    def writerow(self, row: list[str]) -> None:
        self._writer.writerow([_text(row[0]), *row[1:]] if row else row)

    def writerows(self, rows: list[list[str]]) -> None:
        for row in rows:
            self.writerow(row)


def to_csv(view: ReportView) -> bytes:
    """Key figures, then each table under its title, separated by empty lines."""
    out = io.StringIO()
    writer = _TextWriter(out)
    writer.writerows([[label, *(_text(v) for v in values)] for label, *values in _heading_rows(view)])
    writer.writerow([])
    writer.writerow([_("Key figures")])
    for figure in view.key_figures:
        writer.writerow([figure.label, plain_number(figure.cell, figure.decimals), figure.unit, figure.note])
    for table in view.tables:
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow([table.row_heading, *(_text(c.label) for c in table.columns)])
        for row in table.rows:
            writer.writerow([row.label, *(plain_number(cell, col.decimals)
                                          for cell, col in zip(row.cells, table.columns, strict=True))])
    writer.writerow([])
    writer.writerow([_("Method")])
    for paragraph in (*view.method, *view.sources, view.small_cell_note):
        writer.writerow([paragraph])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_SHEET_NAME_LIMIT = 31  # Excel's own limit on a sheet's name
_BAD_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})


def _sheet_name(title: str, used: set[str]) -> str:
    name = title.translate(_BAD_SHEET_CHARS).strip()
    if len(name) > _SHEET_NAME_LIMIT:  # cut at a word, not in the middle of one
        cut = name[: _SHEET_NAME_LIMIT + 1].rsplit(" ", 1)[0]
        name = cut if cut and len(cut) <= _SHEET_NAME_LIMIT else name[:_SHEET_NAME_LIMIT]
    base, n = name, 2
    while name.lower() in used:
        suffix = f" {n}"
        name, n = base[: _SHEET_NAME_LIMIT - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def to_xlsx(view: ReportView) -> bytes:
    """A summary sheet with the key figures and the method, and one sheet per table; numbers are numbers,
    a hidden cell the text "<5" (or ":")."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    book.set_properties({"title": view.title, "subject": view.period_text, "author": "Samkonsult"})
    bold = book.add_format({"bold": True})
    title = book.add_format({"bold": True, "font_size": 14})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    formats = {0: book.add_format({"num_format": "#,##0"}), 1: book.add_format({"num_format": "#,##0.0"}),
               2: book.add_format({"num_format": "#,##0.00"})}
    right = book.add_format({"align": "right"})
    used: set[str] = set()

    def put(sheet: Any, r: int, c: int, cell: Cell, decimals: int) -> None:
        if cell.suppressed:
            sheet.write_string(r, c, cell.hidden_text, right)
        elif cell.value is not None:
            sheet.write_number(r, c, cell.value, formats[min(decimals, 2)])

    summary = book.add_worksheet(_sheet_name(_("Summary"), used))
    summary.set_column(0, 0, 42)
    summary.set_column(1, 2, 14)
    summary.set_column(3, 3, 60)
    summary.write_string(0, 0, view.title, title)
    r = 1
    for heading in _heading_rows(view)[1:]:
        for c, text in enumerate(heading):
            summary.write_string(r, c, text)  # a name stays text, whatever it starts with
        r += 1
    r += 1
    summary.write_row(r, 0, [_("Key figures"), _("Value"), _("Unit"), _("Note")], bold)
    for figure in view.key_figures:
        r += 1
        summary.write_string(r, 0, figure.label)
        put(summary, r, 1, figure.cell, figure.decimals)
        summary.write_string(r, 2, figure.unit)
        summary.write_string(r, 3, figure.note)
    r += 2
    summary.write_string(r, 0, _("Method"), bold)
    for paragraph in (*view.method, *view.sources, view.small_cell_note):
        r += 1
        summary.merge_range(r, 0, r, 3, paragraph, wrap)
        summary.set_row(r, 15 * (1 + len(paragraph) // 110))

    for table in view.tables:
        sheet = book.add_worksheet(_sheet_name(table.title, used))
        sheet.write_string(0, 0, table.title, title)
        sheet.write_row(2, 0, [table.row_heading, *(c.label for c in table.columns)], bold)
        sheet.set_column(0, 0, 28)
        sheet.set_column(1, len(table.columns), 16)
        for i, row in enumerate(table.rows, start=3):
            sheet.write_string(i, 0, row.label)
            for j, (cell, col) in enumerate(zip(row.cells, table.columns, strict=True), start=1):
                put(sheet, i, j, cell, col.decimals)
    book.close()
    return out.getvalue()


# --- PDF ---------------------------------------------------------------------------------------------

_FONT = "Helvetica"
_TYPOGRAPHY = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "\u00a0": " ",
                             "\u202f": " ", "₂": "2", "…": "..."})
_BAR = (31, 78, 121)  # the charts' first colour (web/benefits_charts.py), dark enough to print in grey
_SERIES = ((31, 78, 121), (160, 64, 0), (46, 107, 48))


def _latin1(text: str) -> str:
    # The core font knows Latin-1 (æ, ø, å included); a few typographic marks become their plain forms.
    return text.translate(_TYPOGRAPHY).encode("latin-1", "replace").decode("latin-1")


def to_pdf(view: ReportView, *, compress: bool = True) -> bytes:
    """An A4 PDF: key figures, the charts drawn as bars (a hidden cell drawn as none, with "<5" beside it),
    the tables and the method. ``compress=False`` leaves the text readable in the file, for tests."""
    # Imported when a PDF is asked for, as the notes' export does: fpdf2 pulls in font tooling that the
    # rest of the server never needs.
    from fpdf import FPDF

    def page_label(n: int) -> str:
        return _("Page {page} of {pages}").format(page=n, pages="{nb}")

    class ReportPdf(FPDF):  # type: ignore[misc]  # fpdf2 ships no type hints for subclassing
        def footer(self) -> None:
            # "Side 1 av 3": a report pasted together from printouts must show when a page is missing.
            self.set_y(-12)
            self.set_font(_FONT, size=8)
            self.cell(0, 5, _latin1(page_label(self.page_no())), align="C")

    pdf = ReportPdf(orientation="portrait", unit="mm", format="A4")
    pdf.alias_nb_pages("{nb}")
    pdf.set_compression(compress)
    pdf.set_title(_latin1(view.title))
    pdf.set_lang(current_language())
    pdf.set_creator("Samkonsult")
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    pdf.set_font(_FONT, style="B", size=16)
    pdf.multi_cell(0, 8, _latin1(view.title), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=11)
    for label, value in _heading_rows(view)[1:]:
        pdf.cell(0, 6, _latin1(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _heading(pdf, _("Key figures"))
    pdf.set_font(_FONT, size=10)
    for figure in view.key_figures:
        value = cell_text(figure.cell, figure.decimals) + (f" {figure.unit}" if figure.unit else "")
        pdf.set_font(_FONT, size=10)
        pdf.cell(80, 6, _latin1(figure.label))
        pdf.set_font(_FONT, style="B", size=10)
        pdf.cell(35, 6, _latin1(value), align="R")
        pdf.set_font(_FONT, size=9)
        pdf.multi_cell(0, 6, _latin1(figure.note), align="L", new_x="LMARGIN", new_y="NEXT")
    for chart in view.charts:
        _bar_chart(pdf, chart)
    for table in view.tables:
        _table(pdf, table)
    _heading(pdf, _("Method"))
    pdf.set_font(_FONT, size=9.5)
    for paragraph in (*view.method, *view.sources, view.small_cell_note):
        pdf.multi_cell(0, 5, _latin1(paragraph), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    return bytes(pdf.output())


def _heading(pdf: Any, text: str, room: float = 20) -> None:
    if pdf.get_y() + room > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(_FONT, style="B", size=13)
    pdf.cell(0, 8, _latin1(text), new_x="LMARGIN", new_y="NEXT")


def _bar_chart(pdf: Any, chart: Chart) -> None:
    """Horizontal bars, one line per row and series, labelled with their numbers (readable in grey)."""
    table = chart.table
    lines = len(table.rows) * len(chart.series)
    line_h = 5.0
    _heading(pdf, chart.title, room=14 + min(lines, 40) * line_h)
    if not table.rows:
        pdf.set_font(_FONT, size=10)
        pdf.cell(0, 6, _latin1(_("Nothing to show for this period.")), new_x="LMARGIN", new_y="NEXT")
        return
    values = [c.plottable for i in chart.series for c in table.column(i)]
    top = max((v for v in values if v is not None), default=0.0) or 1.0
    label_w, value_w = 48.0, 22.0
    bar_w = pdf.epw - label_w - value_w
    if len(chart.series) > 1:  # the legend: which colour is which column
        pdf.set_font(_FONT, size=8.5)
        for n, index in enumerate(chart.series):
            pdf.set_fill_color(*_SERIES[n % len(_SERIES)])
            pdf.rect(pdf.get_x(), pdf.get_y() + 1.2, 3, 3, style="F")
            pdf.set_x(pdf.get_x() + 4)
            text = _latin1(table.columns[index].label)
            pdf.cell(pdf.get_string_width(text) + 6, 5.5, text)
        pdf.ln(6)
    pdf.set_font(_FONT, size=8.5)
    for row in table.rows:
        if pdf.get_y() + line_h * len(chart.series) > pdf.h - pdf.b_margin:
            pdf.add_page()
        for n, index in enumerate(chart.series):
            cell = row.cells[index]
            decimals = table.columns[index].decimals
            y = pdf.get_y()
            label = row.label if n == 0 else ""
            pdf.cell(label_w, line_h, _latin1(_fit(pdf, label, label_w - 1)))
            value = cell.plottable
            if value:
                pdf.set_fill_color(*(_SERIES[n % len(_SERIES)] if len(chart.series) > 1 else _BAR))
                pdf.rect(pdf.l_margin + label_w, y + 0.8, max(bar_w * value / top, 0.3), line_h - 1.6, style="F")
            pdf.set_xy(pdf.l_margin + label_w + bar_w, y)
            pdf.cell(value_w, line_h, _latin1(cell_text(cell, decimals)), align="R", new_x="LMARGIN", new_y="NEXT")


def _fit(pdf: Any, text: str, width: float) -> str:
    if pdf.get_string_width(_latin1(text)) <= width:
        return text
    while text and pdf.get_string_width(_latin1(text + "...")) > width:
        text = text[:-1]
    return text + "..."


def _table(pdf: Any, table: Table) -> None:
    """The table with its row labels down the side, wrapped headings and numbers to the right."""
    _heading(pdf, table.title, room=30)
    count = len(table.columns)
    label_w = 38.0 if count > 4 else 70.0
    col_w = min((pdf.epw - label_w) / max(count, 1), 30.0)
    size = 7.0 if count > 6 else 9.0
    pdf.set_font(_FONT, style="B", size=size)
    headings = [table.row_heading, *(c.label for c in table.columns)]
    widths = [label_w, *([col_w] * count)]
    y = pdf.get_y()
    tallest = y
    x = pdf.l_margin
    for text, width in zip(headings, widths, strict=True):
        pdf.set_xy(x, y)
        pdf.multi_cell(width, size * 0.45, _latin1(text), align="L" if x == pdf.l_margin else "R",
                       new_x="RIGHT", new_y="TOP")
        tallest = max(tallest, pdf.get_y())
        x += width
        tallest = max(tallest, y + _lines_height(pdf, text, width, size))
    pdf.set_xy(pdf.l_margin, tallest + 1)
    pdf.set_draw_color(0, 0, 0)
    pdf.line(pdf.l_margin, tallest + 0.5, pdf.l_margin + sum(widths), tallest + 0.5)
    pdf.set_font(_FONT, size=size)
    for row in table.rows:
        if pdf.get_y() + 6 > pdf.h - pdf.b_margin:
            pdf.add_page()
        pdf.cell(label_w, 5.5, _latin1(_fit(pdf, row.label, label_w - 1)))
        for cell, col in zip(row.cells, table.columns, strict=True):
            pdf.cell(col_w, 5.5, _latin1(cell_text(cell, col.decimals)), align="R")
        pdf.ln(5.5)
    if not table.rows:
        pdf.cell(0, 6, _latin1(_("Nothing to show for this period.")), new_x="LMARGIN", new_y="NEXT")


def _lines_height(pdf: Any, text: str, width: float, size: float) -> float:
    lines = pdf.multi_cell(width, size * 0.45, _latin1(text), dry_run=True, output="LINES")
    assert isinstance(lines, list)  # output="LINES" returns the wrapped lines
    return float(len(lines) * size * 0.45)
