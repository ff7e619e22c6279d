"""Who has a note open right now, and telling them at once when it changes: the live side of writing together.

The stored note stays the one source of truth (versions, merged part by part by :mod:`notes.editing`). What
this module adds is ephemeral and per process: the editors that have a note open (their presence: which part
they are in, whether they are typing, whether they have text not yet saved) and the fan-out of "the note
changed" to them, so an open editor fetches and merges another author's save within a moment instead of at
its own next save.

With several nodes, a change is also forwarded to the other nodes' hubs (:mod:`server.redis_note_relay`),
so editors of one note who reached different nodes see each other's saves; presence stays per node.

Nothing here is stored and nothing here carries the note's text: a change names the version, the parts it
touched and who made it; presence names a person, their profession and a part key. Whoever listens was let
in by the transport after the same access check as reading the note; the hub never decides access.

A listener is anything with ``deliver(event)`` that never blocks (the transport queues frames); a listener
that cannot keep up is the transport's to drop.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from notes.model import Person
from notes.parts import is_part_key
from notes.signing import SECTIONS

MAX_EDITORS_PER_NOTE = 64
"""Open editors of one note at once; a joint consultation has a handful, this bounds a runaway client."""
MAX_PART_KEY = 200


class ChangeKind:
    """What happened to the stored note (strings, so they go to clients as they are)."""

    SAVED = "saved"
    SIGNED = "signed"
    AMENDED = "amended"
    SHARED = "shared"


@dataclass(frozen=True)
class NoteChanged:
    """The stored note changed: its latest version, the parts a save touched (empty for other kinds), by whom."""

    kind: str
    version: int
    parts: tuple[str, ...]
    by: Person


@dataclass(frozen=True)
class Presence:
    """One open editor: who, where (a part key or section, or None), typing now, holding unsaved text."""

    editor: str
    person: Person
    part: str | None = None
    typing: bool = False
    unsaved: bool = False
    may_write: bool = False


@dataclass(frozen=True)
class PresenceChanged:
    """Everyone who has the note open, in the order they opened it."""

    editors: tuple[Presence, ...]


LiveEvent = NoteChanged | PresenceChanged


class Listener(Protocol):
    """The transport's end of one open editor."""

    def deliver(self, event: LiveEvent) -> None:
        """Queue the event for the client; must not block or raise."""
        ...


class TooManyEditors(Exception):
    """The note already has :data:`MAX_EDITORS_PER_NOTE` open editors."""


class BadPart(ValueError):
    """A presence update named something that is not a part or section of a note."""


def check_part(part: str | None) -> str | None:
    """A part key, section name or None as given by a client; raises :class:`BadPart` for anything else."""
    if part is None:
        return None
    if len(part) > MAX_PART_KEY or not (part in SECTIONS or is_part_key(part)):
        raise BadPart(f"{part[:40]!r} is not a part of a note")
    return part


@dataclass
class _Editor:
    presence: Presence
    listener: Listener


class NoteHub:
    """Open editors per note and the fan-out of changes and presence to them (in memory, one process)."""

    def __init__(self, new_id: Callable[[], str] | None = None) -> None:
        counter = itertools.count(1)
        self._new_id = new_id or (lambda: f"e{next(counter)}")
        self._notes: dict[str, dict[str, _Editor]] = {}
        self._forward: Callable[[str, NoteChanged], None] | None = None

    def forward_changes(self, forward: Callable[[str, NoteChanged], None]) -> None:
        """Also hand every change published here to ``forward`` (the other nodes' hubs, through Redis)."""
        self._forward = forward

    def join(self, note_id: str, person: Person, listener: Listener, *, may_write: bool) -> str:
        """Add an open editor of ``note_id``; returns its id. Everyone (the newcomer too) gets the presence."""
        editors = self._notes.setdefault(note_id, {})
        if len(editors) >= MAX_EDITORS_PER_NOTE:
            raise TooManyEditors(f"note already has {MAX_EDITORS_PER_NOTE} open editors")
        editor_id = self._new_id()
        editors[editor_id] = _Editor(Presence(editor_id, person, may_write=may_write), listener)
        self._broadcast_presence(note_id)
        return editor_id

    def leave(self, note_id: str, editor_id: str) -> None:
        """Remove an editor (its socket closed); the others get the presence without it."""
        editors = self._notes.get(note_id)
        if editors is None or editors.pop(editor_id, None) is None:
            return
        if editors:
            self._broadcast_presence(note_id)
        else:
            del self._notes[note_id]

    def update(self, note_id: str, editor_id: str, *, part: str | None, typing: bool, unsaved: bool) -> None:
        """Where an editor is and what it is doing; broadcast only when something changed."""
        editor = self._notes.get(note_id, {}).get(editor_id)
        if editor is None:
            return
        new = replace(editor.presence, part=check_part(part), typing=typing, unsaved=unsaved)
        if new != editor.presence:
            editor.presence = new
            self._broadcast_presence(note_id)

    def publish(self, note_id: str, change: NoteChanged) -> int:
        """Tell every open editor of the note that it changed, here and on the other nodes; returns how
        many were told here."""
        if self._forward is not None:
            self._forward(note_id, change)
        return self.deliver_here(note_id, change)

    def deliver_here(self, note_id: str, change: NoteChanged) -> int:
        """Tell this node's open editors of the note (a change made here, or forwarded from another node)."""
        editors = list(self._notes.get(note_id, {}).values())
        for editor in editors:
            editor.listener.deliver(change)
        return len(editors)

    def present(self, note_id: str) -> tuple[Presence, ...]:
        """The open editors of a note, in the order they opened it."""
        return tuple(e.presence for e in self._notes.get(note_id, {}).values())

    def _broadcast_presence(self, note_id: str) -> None:
        event = PresenceChanged(self.present(note_id))
        for editor in list(self._notes.get(note_id, {}).values()):
            editor.listener.deliver(event)
