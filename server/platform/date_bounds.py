"""The dates any input may name: far wider than any consultation, note or report needs, and far from the
edges of ``datetime``, where one day or one time zone further raises ``OverflowError``.

Imports nothing of this project, so every layer (web forms, signaling frames, note documents) checks
dates against the same range.
"""

from __future__ import annotations

from datetime import date, datetime

EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)


def in_range(value: date) -> bool:
    """Whether ``value`` (a date, or the date of a datetime) lies between EARLIEST and LATEST."""
    # A datetime is a date too, but comparing one with a date raises TypeError.
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST <= day <= LATEST
