"""The benefits report's outputs from a small report built by hand: every figure where it belongs, in the
reader's language, and a cell under five written "<5" in the page's view, the charts, the CSV, the XLSX
and the PDF, never as its number."""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.benefits_fixture import report
from web import i18n
from web.benefits_charts import chart_stylesheet, render_chart
from web.benefits_exports import to_csv, to_pdf, to_xlsx
from web.benefits_report_view import report_view
from web.benefits_view import ReportView


@pytest.fixture
def bokmal() -> Iterator[None]:
    i18n.set_language("nb")
    yield
    i18n.set_language("nb")


def _view() -> ReportView:
    return report_view(report())


def _csv_rows() -> list[list[str]]:
    data = to_csv(_view())
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads æøå
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def _row(rows: list[list[str]], label: str) -> list[str]:
    return next(r for r in rows if r and r[0] == label)


def test_csv_has_every_figure_in_bokmal_and_hides_the_small_municipality(bokmal: None) -> None:
    rows = _csv_rows()
    assert _row(rows, "Samkonsultasjoner holdt")[1] == "23"
    assert _row(rows, "Reiser spart")[1] == "28"
    assert _row(rows, "Kilometer spart")[1:3] == ["2164", "km"]
    assert _row(rows, "Reisetimer spart")[1] == "36,1"  # 2164 / 60, one decimal, decimal comma
    assert _row(rows, "Reisekostnader spart")[1] == "7574"  # 2164 km x 3,50 kr
    assert _row(rows, "Uteblitt")[1] == "<5"  # two no-shows
    rodoy = _row(rows, "Rødøy kommune")
    assert rodoy[1:3] == ["20", "5"] and rodoy[6] == "1840"
    traena = _row(rows, "Træna kommune")
    assert set(traena[1:]) == {"<5"}  # 3 held: the count and every figure worked out from it
    week = _row(rows, "Innen en uke")
    assert week[1:8] == ["23", "7,0", "2,0", "3,2", "4,0", "6,5", "100"]  # hours shown as days
    assert set(_row(rows, "Innen et døgn")[3:]) == {"<5"}
    assert _row(rows, "Innlegging unngått: ja")[1] == "12"
    assert _row(rows, "Innlegging unngått: usikker")[1] == "<5"


def test_english_on_request() -> None:
    i18n.set_language("en")
    try:
        rows = list(csv.reader(io.StringIO(to_csv(_view()).decode("utf-8-sig")), delimiter=";"))
    finally:
        i18n.set_language("nb")
    assert _row(rows, "Consultations held")[1] == "23"
    assert _row(rows, "Travel hours avoided")[1] == "36.1"
    assert _row(rows, "Geriatric joint consultation")[1] == "23"


def _workbook(data: bytes) -> dict[str, list[list[str | float]]]:
    """Each sheet's rows, read from the XLSX's XML: shared strings resolved, numbers as numbers."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        shared = [html.unescape(t) for t in re.findall(r"<t[^>]*>([^<]*)</t>", z.read("xl/sharedStrings.xml").decode())]
        names = [html.unescape(n) for n in re.findall(r'<sheet name="([^"]+)"', z.read("xl/workbook.xml").decode())]
        book: dict[str, list[list[str | float]]] = {}
        for index, name in enumerate(names, start=1):
            rows: list[list[str | float]] = []
            for row in re.findall(r"<row [^>]*>(.*?)</row>", z.read(f"xl/worksheets/sheet{index}.xml").decode()):
                cells: list[str | float] = []
                for attrs, value in re.findall(r"<c ([^>]*)><v>([^<]*)</v></c>", row):
                    cells.append(shared[int(value)] if 't="s"' in attrs else float(value))
                rows.append(cells)
            book[name] = rows
    return book


def test_xlsx_numbers_are_numbers_and_small_cells_are_text(bokmal: None) -> None:
    book = _workbook(to_xlsx(_view()))
    assert list(book) == ["Sammendrag", "Måned for måned", "Svartid etter hastegrad", "Etter kommune",
                          "Etter type samkonsultasjon", "Etter avdeling", "Utfall registrert av"]
    summary = {row[0]: row[1:] for row in book["Sammendrag"] if row}
    assert summary["Kilometer spart"][:2] == [2164.0, "km"]
    assert summary["Uteblitt"][0] == "<5"
    municipalities = {row[0]: row[1:] for row in book["Etter kommune"][1:]}
    assert municipalities["Rødøy kommune"][:2] == [20.0, 5.0] and municipalities["Rødøy kommune"][5] == 1840.0
    assert set(municipalities["Træna kommune"]) == {"<5"}  # 3 held: nothing of it as a number


def _pdf_text(data: bytes) -> str:
    text = data.decode("latin-1")
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            text += zlib.decompress(stream).decode("latin-1")
        except zlib.error:
            text += stream.decode("latin-1")
    return text


def test_pdf_has_the_figures_and_no_hidden_number(bokmal: None) -> None:
    data = to_pdf(_view(), compress=False)
    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    assert "(Træna kommune)" in text and "(Rødøy kommune)" in text
    assert "(<5)" in text and "(2 164 km)" in text.replace("\xa0", " ")
    assert "324" not in text.split("Træna kommune", 1)[1].split(")", 3)[2]
    assert _pdf_text(to_pdf(_view())).count("Træna") >= 2  # compressed too


def test_charts_never_draw_a_hidden_cell_and_carry_no_script_or_style(bokmal: None) -> None:
    view = _view()
    chart = next(c for c in view.charts if c.key == "municipalities")
    svg = render_chart(chart, no_data="Ingen", described_by="table-municipalities")
    assert 'role="img"' in svg and 'aria-label="Samkonsultasjoner per kommune"' in svg
    assert "<script" not in svg and "<style" not in svg and "style=" not in svg
    values = re.findall(r'<desc class="value">([^<]*)</desc>', svg)
    assert "20" in values and "5" in values and "3" not in values and "1" not in values
    trips = render_chart(next(c for c in view.charts if c.key == "trips"), no_data="Ingen")
    assert re.findall(r'<desc class="value">([^<]*)</desc>', trips) == ["11", "12"]


def test_the_charts_stylesheet_is_the_one_pygal_writes() -> None:
    served = Path(__file__).parents[2] / "web" / "static" / "benefits_charts.css"
    assert served.read_text(encoding="utf-8").split("\n", 1)[1] == chart_stylesheet()


def test_a_figure_hidden_for_its_neighbour_reads_colon_everywhere(bokmal: None) -> None:
    """A count of five or more hidden so that a small one cannot be worked out is ":", not "<5"."""
    from dataclasses import replace

    from scheduling.benefits.report import BreakdownRow
    from tests.unit.benefits_fixture import figures

    hidden = figures(12, 960)
    protected = replace(hidden, held=hidden.held.hidden(), km_avoided=replace(hidden.km_avoided, suppressed=True))
    base = report()
    view = report_view(replace(base, by_department=(BreakdownRow(7, "Geriatri", "", protected),)))
    rows = list(csv.reader(io.StringIO(to_csv(view).decode("utf-8-sig")), delimiter=";"))
    geriatri = _row(rows, "Geriatri")
    assert (geriatri[1], geriatri[6]) == (":", ":") and "960" not in geriatri  # held and kilometres
    book = _workbook(to_xlsx(view))
    assert {row[0]: row[1:] for row in book["Etter avdeling"][1:]}["Geriatri"][0] == ":"
    assert "(:)" in _pdf_text(to_pdf(view, compress=False))


def test_a_name_like_a_formula_stays_text(bokmal: None) -> None:
    """A municipality an administrator named "=2+5*HYPERLINK(A1)" is text in the CSV and the XLSX, never a formula."""
    from dataclasses import replace

    from scheduling.benefits.report import Filters

    base = report()
    evil = "=2+5*HYPERLINK(A1)"
    row = replace(base.by_municipality[0], name=evil)
    view = report_view(replace(base, by_municipality=(row, *base.by_municipality[1:]),
                               filters=Filters(municipality_id=1, municipality_name=evil)))
    text = to_csv(view).decode("utf-8-sig")
    assert f"'{evil}" in text and f";{evil}" not in text and f"\n{evil}" not in text
    with zipfile.ZipFile(io.BytesIO(to_xlsx(view))) as z:
        sheets = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in sheets  # no cell holds a formula
