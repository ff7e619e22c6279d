"""One strict reader for JSON from outside: HTTP bodies, signaling frames, stored note documents.

``json.loads`` alone is too lenient for untrusted input: it keeps the last of duplicate keys (so a
proxy or a validator reading the first sees a different document), accepts ``NaN`` and ``Infinity``,
turns ``1e999`` into infinity, raises ``RecursionError`` on deep nesting and a ``ValueError`` that is
not a ``JSONDecodeError`` on integers longer than Python's conversion limit. ``loads`` refuses all of
these, and anything over the size limit, with one error type: ``JsonRejected``.

Imports nothing of this project, so every layer can use it.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import NoReturn

MAX_DEPTH = 64
"""Nested arrays and objects; none of our documents comes near, and the C parser recurses per level."""
MAX_INT_DIGITS = 100
"""Digits of one integer; converting a long digit string to ``int`` costs time quadratic in its length."""

# A JSON string, escapes included; removed before counting brackets so that "[[[" inside text is not
# mistaken for nesting.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonRejected(ValueError):
    """The input is not acceptable JSON.

    ``reason`` is a stable code (``too_large``, ``not_utf8``, ``syntax``, ``duplicate_key``,
    ``too_deep``, ``number_too_long``, ``not_finite``); ``message`` says what is wrong in words; ``key``
    names the repeated key of a ``duplicate_key``.
    """

    def __init__(self, reason: str, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.key = key


def loads(
    data: str | bytes,
    *,
    max_bytes: int,
    max_depth: int = MAX_DEPTH,
    max_int_digits: int = MAX_INT_DIGITS,
) -> object:
    """Parse ``data`` (text, or UTF-8 bytes) strictly; raises ``JsonRejected`` and nothing else.

    ``max_bytes`` is measured in UTF-8 bytes, before anything is parsed.
    """
    text = _text_within(data, max_bytes)
    _check_depth(text, max_depth)
    try:
        return json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=lambda digits: _bounded_int(digits, max_int_digits),
        )
    except JsonRejected:
        raise
    except json.JSONDecodeError as exc:
        raise JsonRejected("syntax", f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError):  # belt and braces: the checks above should leave none of these
        raise JsonRejected("syntax", "invalid JSON") from None


def _text_within(data: str | bytes, max_bytes: int) -> str:
    if isinstance(data, bytes):
        if len(data) > max_bytes:
            raise JsonRejected("too_large", f"at most {max_bytes} bytes")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonRejected("not_utf8", "the text is not UTF-8") from None
    # A str can be under the limit in characters but over it in bytes (up to 4 bytes a character).
    if len(data) > max_bytes or (
        len(data) * 4 > max_bytes and len(data.encode("utf-8", "surrogatepass")) > max_bytes
    ):
        raise JsonRejected("too_large", f"at most {max_bytes} bytes")
    return data


def _check_depth(text: str, max_depth: int) -> None:
    # Counting brackets is an upper bound on the depth, at C speed: most documents stop here.
    if text.count("[") + text.count("{") <= max_depth:
        return
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if brackets and max(accumulate(map(_STEP.__getitem__, brackets))) > max_depth:
        raise JsonRejected("too_deep", f"nested deeper than {max_depth} levels")


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    obj: dict[str, object] = {}
    for key, value in pairs:
        if key in obj:
            raise JsonRejected("duplicate_key", f"duplicate key {key[:32]!r}", key=key)
        obj[key] = value
    return obj


def _reject_constant(name: str) -> NoReturn:
    raise JsonRejected("not_finite", f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses to inf without passing through parse_constant
        raise JsonRejected("not_finite", "number out of range")
    return value


def _bounded_int(digits: str, max_digits: int) -> int:
    if len(digits.lstrip("-")) > max_digits:
        raise JsonRejected("number_too_long", f"integers are limited to {max_digits} digits")
    return int(digits)
