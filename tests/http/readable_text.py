"""What a person reads on a page, and the ways it can betray the software underneath.

A page's visible text (and the attributes screen readers and tooltips read aloud) must never show an
internal id (``blood_pressure_monitor``), a UCUM code (``mm[Hg]``) or an English message id that the
bokmål catalogue translates. URLs, attribute values that are codes, scripts, styles and ``<code>`` are
not read by people as prose and are skipped; a page's JSON configuration (the words its script shows)
is checked for untranslated message ids only, since it rightly carries codes beside the words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

from server.people.vital_signs import VITAL_SIGNS

NB_CATALOGUE = Path(__file__).resolve().parents[2] / "web" / "locale" / "nb" / "LC_MESSAGES" / "messages.po"

_READ_ALOUD = ("alt", "title", "aria-label", "placeholder")
_NOT_PROSE = {"script", "style", "code", "pre", "template"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_SNAKE = re.compile(r"(?<![\w/@:-])[a-z]+_[a-z_]+(?![\w/@-])")
_ENGLISH = frozenset({"the", "is", "are", "was", "were", "been", "has", "have", "could", "would", "should", "not",
                      "of", "with", "which", "this", "that", "configured", "error", "failed", "connecting", "call",
                      "gateway", "refused", "could", "unknown", "invalid"})
"""Words of English prose that bokmål never uses: two of them in one text mean an English sentence (an
exception's text, a developer's message) that no catalogue translated."""
_URL = re.compile(r"\b(?:https?://|/)\S+")
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}|%[sd]")


@dataclass(frozen=True)
class Problem:
    """One thing on a page a person should not have to read."""

    kind: str
    text: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.text!r}"


class _VisibleText(HTMLParser):
    """Collects the text nodes and read-aloud attributes outside scripts, styles and code."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[tuple[str, bool]] = []
        """Each text, and whether it is marked as English (``lang="en"``, the language switch)."""
        self.configs: list[str] = []
        self._stack: list[tuple[str, bool]] = []
        self._json = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        lang = dict(attrs).get("lang")
        english = (lang or "").startswith("en") if lang is not None else self._english()
        self._attributes(attrs, english)
        if tag == "script":
            self._json = dict(attrs).get("type") == "application/json"
        if tag not in _VOID:
            self._stack.append((tag, english))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attributes(attrs, self._english())

    def _attributes(self, attrs: list[tuple[str, str | None]], english: bool) -> None:
        for name, value in attrs:
            if name in _READ_ALOUD and value:
                self.texts.append((value, english))

    def _english(self) -> bool:
        return bool(self._stack) and self._stack[-1][1]

    def handle_endtag(self, tag: str) -> None:
        if tag in (t for t, _english in self._stack):
            while self._stack and self._stack.pop()[0] != tag:
                pass
        if tag == "script":
            self._json = False

    def handle_data(self, data: str) -> None:
        if self._stack and self._stack[-1][0] == "script" and self._json:
            self.configs.append(data)
            return
        if _NOT_PROSE.intersection(t for t, _english in self._stack):
            return
        text = " ".join(data.split())
        if text:
            self.texts.append((text, self._english()))


@dataclass(frozen=True)
class _Message:
    msgid: str
    pattern: re.Pattern[str]
    whole_only: bool


@cache
def _translated_messages() -> tuple[_Message, ...]:
    """The catalogue's English ids whose bokmål text differs: seeing one on an nb page means a missing
    translation. Placeholders match anything; one-word ids count only as a whole text (``sent`` is also
    a Norwegian word), longer ids anywhere in a text."""
    with NB_CATALOGUE.open("rb") as fh:
        catalogue = read_po(fh, locale="nb_NO")
    found: list[_Message] = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid, msgstr in zip(ids, strings, strict=False):
            if not msgstr or msgstr == msgid:
                continue
            literal = _PLACEHOLDER.split(msgid)
            words = sum(len(re.findall(r"[A-Za-z]{2,}", part)) for part in literal)
            whole_only = words < 2
            if words == 0 or (whole_only and len(literal) > 1):
                continue  # "{day} at {time}": too little English of its own to tell apart from bokmål
            body = r".+?".join(re.escape(re.sub(r"\s+", " ", part)) for part in literal)
            pattern = re.compile(rf"^{body}$" if whole_only else rf"(?<![\w]){body}(?![\w])")
            found.append(_Message(msgid, pattern, whole_only))
    return tuple(found)


@cache
def _ucum_codes() -> tuple[re.Pattern[str], ...]:
    """UCUM codes that read differently on screen (``mm[Hg]``, ``Cel``)."""
    return tuple(re.compile(rf"(?<![\w]){re.escape(spec.ucum)}(?![\w])")
                 for spec in VITAL_SIGNS.values() if spec.ucum != spec.unit)


def _config_strings(raw: str) -> Iterator[str]:
    try:
        data = json.loads(raw)
    except ValueError:
        return
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and " " in item.strip():
            yield item


def untranslated(text: str) -> list[str]:
    """The catalogue ids a text shows in English although bokmål has its own words for them."""
    return [m.msgid for m in _translated_messages() if m.pattern.search(text)]


def problems(html: str, *, english: bool = False) -> list[Problem]:
    """Everything on a page a person should not have to read (see the module docstring); on an
    ``english`` page only ids and codes, since its words are rightly the catalogue's English ids."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    found: list[Problem] = []
    for text, marked_english in parser.texts:
        prose = _URL.sub(" ", text)
        found += [Problem("internal id", match) for match in _SNAKE.findall(prose)]
        found += [Problem("UCUM code", f"{pattern.pattern} in {text}") for pattern in _ucum_codes()
                  if pattern.search(prose)]
        if english or marked_english:
            continue
        found += [Problem("untranslated", f"{msgid} in {text}") for msgid in untranslated(text)]
        if len(_ENGLISH.intersection(re.findall(r"[a-z]+", prose.lower()))) >= 2:
            found.append(Problem("English", text))
    for raw in [] if english else parser.configs:
        for text in _config_strings(raw):
            found += [Problem("untranslated in page script words", f"{msgid} in {text}")
                      for msgid in untranslated(text)]
    return sorted(set(found), key=str)
