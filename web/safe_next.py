"""Where a login or language form may send the browser next: only a path on this site.

A ``next`` value comes from a link anyone can craft. Letting it leave the site would turn our login
page into a phishing helper (log in, then land on a look-alike page), so the check is an allow-list
of one shape, never a repair of a bad value: browsers and aiohttp both drop tabs and newlines and read
``\\`` as ``/``, so a value that only becomes dangerous after such clean-up must be refused as it came.
"""

from __future__ import annotations

from urllib.parse import unquote

# Percent-decoding more times than this is not something a real link needs.
_MAX_DECODE_ROUNDS = 3
_MAX_LENGTH = 2000


def _plain_path(value: str) -> bool:
    """One slash, then a character that is neither slash nor backslash; no controls, spaces or backslashes."""
    if len(value) < 1 or value[0] != "/":
        return False
    if len(value) > 1 and value[1] in "/\\":
        return False
    return not any(ch == "\\" or ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in value)


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a local path that stays on this site, else None (the caller's default).

    The value is checked as given and after each round of percent-decoding, so ``/%2F/evil.example``
    or ``/%09/evil.example`` is refused as firmly as ``//evil.example`` and ``/\\t/evil.example``.
    """
    if not target or len(target) > _MAX_LENGTH:
        return None
    value = target
    for _ in range(_MAX_DECODE_ROUNDS + 1):
        if not _plain_path(value):
            return None
        decoded = unquote(value)
        if decoded == value:
            return target
        value = decoded
    return None  # still changing after several rounds: nothing honest is encoded that deep
