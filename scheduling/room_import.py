"""Reading a CSV file of health rooms (and their equipment) for a bulk import: every row checked, every
problem named by row and column, nothing decided about the database.

The file is what a spreadsheet saves: UTF-8 (with or without a byte-order mark), separated by
semicolons or commas, a header row naming the columns in Norwegian or English. Columns:

=============================  ===========================================================
``navn`` / ``name``            the room's name (required)
``kommune`` / ``municipality`` the municipality's name or number (required)
``adresse`` / ``address``      street address
``epost`` / ``email``          the room's shared mailbox, where invitations go
``utstyr`` / ``equipment``     equipment kinds, separated by ``|`` or ``,`` (names or codes)
``åpningstider`` / ``hours``   the weekday (Monday–Friday) hours, e.g. ``08:00-15:30`` or
                               ``08:00-11:00 12:00-15:30``; empty: no hours yet
=============================  ===========================================================
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from itertools import pairwise

from scheduling.availability import TimeRange
from scheduling.errors import InvalidAvailability

MAX_ROWS = 2000
MAX_BYTES = 1024 * 1024

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("navn", "name"),
    "municipality": ("kommune", "municipality"),
    "address": ("adresse", "address"),
    "email": ("epost", "e-post", "email", "e-mail"),
    "equipment": ("utstyr", "equipment"),
    "hours": ("åpningstider", "apningstider", "hours", "opening_hours"),
}
REQUIRED_COLUMNS = ("name", "municipality")
LIMITS = {"name": 200, "address": 300, "email": 254}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class RowProblem:
    """One problem of the file: ``row`` is the line in the spreadsheet (the header is row 1, 0 for the
    file as a whole), ``column`` the column's canonical name ("" for the whole row)."""

    row: int
    column: str
    code: str


@dataclass(frozen=True)
class RoomRow:
    row: int
    name: str
    municipality_id: int
    address: str
    email: str
    equipment_codes: tuple[str, ...]
    hours: tuple[TimeRange, ...]


@dataclass(frozen=True)
class ParsedRooms:
    rooms: tuple[RoomRow, ...]
    problems: tuple[RowProblem, ...]


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _header(cells: list[str]) -> tuple[dict[str, int], list[RowProblem]]:
    """Where each known column is; unknown and doubled columns are problems of row 1."""
    aliases = {alias: canon for canon, names in COLUMNS.items() for alias in names}
    where: dict[str, int] = {}
    problems: list[RowProblem] = []
    for i, raw in enumerate(cells):
        name = raw.strip().lower()
        canon = aliases.get(name)
        if canon is None:
            if name:
                problems.append(RowProblem(1, raw.strip()[:60], "import.unknown_column"))
            continue
        if canon in where:
            problems.append(RowProblem(1, canon, "duplicate_key"))
        where[canon] = i
    for canon in REQUIRED_COLUMNS:
        if canon not in where:
            problems.append(RowProblem(1, canon, "import.missing_column"))
    return where, problems


def parse_hours(text: str) -> tuple[TimeRange, ...]:
    """``08:00-11:00 12:00-15:30`` as ranges; raises ``InvalidAvailability`` when it cannot be read."""
    text = re.sub(r"\s*[-–]\s*", "-", text.strip())
    ranges = tuple(sorted((TimeRange.parse(part) for part in filter(None, re.split(r"[\s,|]+", text))),
                          key=lambda r: r.start))
    check_no_overlap(ranges)
    return ranges


def check_no_overlap(ranges: tuple[TimeRange, ...]) -> None:
    """Refuse ranges of one day that overlap (sorted by start; an end of 00:00 is midnight)."""
    for before, after in pairwise(ranges):
        if before.end == time(0, 0) or after.start < before.end:
            raise InvalidAvailability("opening hours overlap", code="availability.overlap")


def parse_rooms(data: bytes, *, municipalities: Mapping[str, int], equipment: Mapping[str, str],
                existing: set[tuple[int, str]]) -> ParsedRooms:
    """Check every row of a room file.

    ``municipalities`` maps a municipality's lower-cased name and number to its id, ``equipment`` a
    lower-cased equipment name (in any language) or code to its code, ``existing`` holds the
    ``(municipality id, lower-cased name)`` of active rooms: a room is not imported twice.
    """
    if len(data) > MAX_BYTES:
        return ParsedRooms((), (RowProblem(0, "", "too_large"),))
    text = _decode(data)
    if text is None:
        return ParsedRooms((), (RowProblem(0, "", "import.not_utf8"),))
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        return ParsedRooms((), (RowProblem(0, "", "import.empty"),))
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error:
        return ParsedRooms((), (RowProblem(0, "", "import.unreadable"),))
    where, problems = _header(rows[0])
    if problems:
        return ParsedRooms((), tuple(problems))
    body = [(n, cells) for n, cells in enumerate(rows[1:], start=2) if any(c.strip() for c in cells)]
    if not body:
        return ParsedRooms((), (RowProblem(0, "", "import.no_rows"),))
    if len(body) > MAX_ROWS:
        return ParsedRooms((), (RowProblem(0, "", "import.too_many_rows"),))
    rooms: list[RoomRow] = []
    seen: dict[tuple[int, str], int] = {}
    for n, cells in body:
        def cell(column: str, cells: list[str] = cells) -> str:
            i = where.get(column)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        row_problems: list[RowProblem] = []
        if len(cells) > len(rows[0]):
            row_problems.append(RowProblem(n, "", "import.too_many_cells"))
        for column, limit in LIMITS.items():
            if len(cell(column)) > limit:
                row_problems.append(RowProblem(n, column, "too_long"))
        name = cell("name")
        if not name:
            row_problems.append(RowProblem(n, "name", "required"))
        muni_text = cell("municipality")
        municipality_id = municipalities.get(muni_text.lower())
        if not muni_text:
            row_problems.append(RowProblem(n, "municipality", "required"))
        elif municipality_id is None:
            row_problems.append(RowProblem(n, "municipality", "unknown_municipality"))
        email = cell("email")
        if email and not _EMAIL.match(email):
            row_problems.append(RowProblem(n, "email", "email_invalid"))
        codes: list[str] = []
        for item in filter(None, (p.strip() for p in re.split(r"[|,]", cell("equipment")))):
            code = equipment.get(item.lower())
            if code is None:
                row_problems.append(RowProblem(n, "equipment", "unknown_equipment"))
                break
            if code not in codes:
                codes.append(code)
        try:
            hours = parse_hours(cell("hours"))
        except (ValueError, InvalidAvailability):
            row_problems.append(RowProblem(n, "hours", "hours_format"))
            hours = ()
        if name and municipality_id is not None:
            key = (municipality_id, name.lower())
            if key in existing:
                row_problems.append(RowProblem(n, "name", "import.room_exists"))
            elif key in seen:
                row_problems.append(RowProblem(n, "name", "import.twice_in_file"))
            seen.setdefault(key, n)
        if row_problems:
            problems += row_problems
        elif municipality_id is not None:
            rooms.append(RoomRow(n, name, municipality_id, cell("address"), email, tuple(codes), hours))
    return ParsedRooms(tuple(rooms) if not problems else (), tuple(problems))
