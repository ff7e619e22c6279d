"""The validators of inbound fields: each returns the typed value or raises ``Bad``.

A small vocabulary for the parser's table of message types, so that every field of every type is
checked the same way (length, format, Unicode, range) before a message is built.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum

from rooms.readings import ReadingValue
from rooms.room import MAX_CHAT_CHARS, MAX_WAITING_MESSAGE_CHARS
from rooms.roster import is_display_text
from server.platform.date_bounds import EARLIEST, LATEST, in_range


class Bad(Exception):
    """A field's value is wrong; turned into a ``bad_field`` error naming the field."""


Validator = Callable[[object], object]


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def string(
    max_chars: int, *, pattern: str | None = None, allow_empty: bool = False
) -> Callable[[object], str]:
    compiled = re.compile(pattern) if pattern else None

    def check(value: object) -> str:
        if not isinstance(value, str):
            raise Bad("must be a string")
        if len(value) > max_chars:
            raise Bad(f"must be at most {max_chars} characters")
        if not value and not allow_empty:
            raise Bad("must not be empty")
        if compiled is not None and not compiled.fullmatch(value):
            raise Bad("has an invalid format")
        if _has_lone_surrogate(value):  # cannot be sent on as UTF-8
            raise Bad("is not valid Unicode")
        return value

    return check


def display_text(max_chars: int) -> Validator:
    def check(value: object) -> str:
        if not isinstance(value, str) or not is_display_text(value, max_chars):
            raise Bad(f"must be 1-{max_chars} printable characters")
        return value

    return check


_CHAT_STRING = string(MAX_CHAT_CHARS)
_TIME_STRING = string(40)
_CHAT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # line breaks and tabs are fine


def chat_text(value: object) -> str:
    text = _CHAT_STRING(value)
    if not text.strip() or _CHAT_CONTROL.search(text):
        raise Bad("must be non-blank text without control characters")
    return text


_WAITING_STRING = string(MAX_WAITING_MESSAGE_CHARS)


def waiting_message_text(value: object) -> str:
    """A staff note to the waiting room: refused (never cut) past its limit, like chat text."""
    text = _WAITING_STRING(value)
    if not text.strip() or _CHAT_CONTROL.search(text):
        raise Bad("must be non-blank text without control characters")
    return text


def integer(low: int, high: int) -> Validator:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):  # JSON true is not 1
            raise Bad("must be an integer")
        if not low <= value <= high:
            raise Bad(f"must be between {low} and {high}")
        return value

    return check


def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise Bad("must be true or false")
    return value


def choice(enum: type[StrEnum], allowed: Iterable[StrEnum] | None = None) -> Validator:
    members = {m.value: m for m in (allowed if allowed is not None else enum)}
    names = ", ".join(sorted(members))

    def check(value: object) -> StrEnum:
        if not isinstance(value, str) or value not in members:
            raise Bad(f"must be one of {names}")
        return members[value]

    return check


def reading_value(value: object) -> ReadingValue:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Bad("must be a number, or a string for blood pressure")
    if isinstance(value, str) and len(value) > 16:
        raise Bad("is too long")
    return value


def aware_datetime(value: object) -> datetime:
    text = _TIME_STRING(value)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Bad("must be an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise Bad("must include a time zone offset")
    if not in_range(parsed):  # 9999-12-31T23:59-23:59 overflows as soon as it is turned into UTC
        raise Bad(f"must lie between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    return parsed


def optional(validator: Validator) -> Validator:
    def check(value: object) -> object:
        return None if value is None else validator(value)

    return check
