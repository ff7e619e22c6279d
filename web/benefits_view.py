"""The benefits report as people read it: key figures, tables, charts and the method, in their language.

One view feeds every output (the page, the PDF, the CSV and the XLSX), so they cannot disagree. A cell
that counts fewer than five people is carried as *suppressed* from the figures onward and is written
"<5" everywhere: never a number, never a bar in a chart. A cell of five or more hidden so that a small
neighbour cannot be worked out from it is suppressed the same way and written ":" (Statistics Norway's
sign), since "<5" would be untrue of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from babel.numbers import format_decimal

from web.i18n import babel_locale

SUPPRESSED_TEXT = "<5"
"""What a hidden small count reads as, in every language and every output."""
HIDDEN_TEXT = ":"
"""What a figure hidden to protect a small neighbour reads as."""


@dataclass(frozen=True)
class Cell:
    """One figure: a number, ``None`` when there is nothing to say (no consultation to take a median
    of), or suppressed because it would count fewer than five people."""

    value: float | None
    suppressed: bool = False
    below_limit: bool = True  # when suppressed: under five ("<5"), else hidden for a neighbour (":")

    @property
    def hidden_text(self) -> str:
        return SUPPRESSED_TEXT if self.below_limit else HIDDEN_TEXT

    @property
    def plottable(self) -> float | None:
        """The value a chart may draw: never a suppressed one."""
        return None if self.suppressed else self.value


HIDDEN = Cell(None, suppressed=True)
PROTECTED = Cell(None, suppressed=True, below_limit=False)
EMPTY = Cell(None)


@dataclass(frozen=True)
class Column:
    """A column of figures: its heading and how many decimals its numbers show."""

    label: str
    decimals: int = 0


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    """A table of the report; ``key`` names it in file names, sheet names and element ids."""

    key: str
    title: str
    row_heading: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]

    def column(self, index: int) -> tuple[Cell, ...]:
        return tuple(row.cells[index] for row in self.rows)


class ChartKind(StrEnum):
    BAR = "bar"  # vertical bars, one group per row (months)
    HORIZONTAL = "horizontal"  # horizontal bars, for long row labels (municipalities)


@dataclass(frozen=True)
class Chart:
    """A chart drawn from a table: which of its columns are series."""

    key: str
    title: str
    table: Table
    series: tuple[int, ...]
    kind: ChartKind = ChartKind.BAR
    y_title: str = ""


@dataclass(frozen=True)
class KeyFigure:
    """A figure at the top of the report, with its unit and, where useful, what it is compared with."""

    label: str
    cell: Cell
    unit: str = ""
    decimals: int = 0
    note: str = ""


@dataclass(frozen=True)
class ReportView:
    """Everything a benefits report shows, already in the reader's language."""

    title: str
    period_text: str
    filters: tuple[tuple[str, str], ...]
    key_figures: tuple[KeyFigure, ...]
    tables: tuple[Table, ...]
    charts: tuple[Chart, ...]
    method: tuple[str, ...]
    sources: tuple[str, ...] = field(default=())
    small_cell_note: str = ""


def number_text(value: float, decimals: int = 0) -> str:
    """A number as the reader's language writes it: "1 234,5" in bokmål, "1,234.5" in English."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=babel_locale())


def cell_text(cell: Cell, decimals: int = 0) -> str:
    """A cell as written in tables and text: "<5" when hidden, a dash when there is nothing."""
    if cell.suppressed:
        return cell.hidden_text
    if cell.value is None:
        return "–"
    return number_text(cell.value, decimals)


def plain_number(cell: Cell, decimals: int = 0) -> str:
    """A cell for a spreadsheet-readable text file: no grouping, the language's decimal sign, "<5"
    when hidden and empty when there is nothing."""
    if cell.suppressed:
        return cell.hidden_text
    if cell.value is None:
        return ""
    pattern = "0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(cell.value, format=pattern, locale=babel_locale())


def count_cell(count: int | None, *, threshold: int = 5) -> Cell:
    """A count of people or consultations, hidden when it is between 1 and ``threshold - 1``."""
    if count is None:
        return EMPTY
    if 0 < count < threshold:
        return HIDDEN
    return Cell(float(count))


def cells(values: Sequence[float | None]) -> tuple[Cell, ...]:
    return tuple(EMPTY if v is None else Cell(float(v)) for v in values)
