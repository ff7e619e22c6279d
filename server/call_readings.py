"""Readings shared in a live consultation are kept in that consultation's joint note.

Glue between two domains (``rooms`` and ``notes``), so it lives in the composition root. The reading
is written as the staff member who took it; if the note is already signed, it stays in the call and
the audit log only (a signed note takes amendments, not silent additions).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from notes.errors import NoteLocked
from notes.model import Reading as NoteReading
from notes.model import new_item_id
from notes.service import NoteService
from rooms.readings import Reading as CallReading
from rooms.roster import Identity
from server.people.models import User
from server.people.staff_actor import staff_actor
from server.platform.db import Database

log = logging.getLogger(__name__)


def to_note_reading(reading: CallReading, taken_by: str) -> NoteReading:
    """The call's reading as the note records it: the same kind, in its UCUM unit, pressures apart."""
    value, diastolic = reading.measurement()
    return NoteReading(id=new_item_id(), kind=reading.kind, value=value, unit=reading.ucum,
                       taken_at=reading.taken_at, taken_by=taken_by, diastolic=diastolic)


class NoteReadingSink:
    """Writes each reading shared in a call into the booking's note, as a new version."""

    def __init__(self, database: Database, notes: NoteService) -> None:
        self._db = database
        self._notes = notes

    async def __call__(self, booking_id: str, identity: Identity, reading: CallReading) -> None:
        if not identity.subject.startswith("user:"):
            return  # only staff take readings; guests cannot post them at all
        async with self._db.session(write_lock=True) as session:
            user = await session.get(User, int(identity.subject.removeprefix("user:")))
            if user is None:
                return
            actor = staff_actor(user)
            view = await self._notes.open_for_booking(session, actor, booking_id, "reading from the call")
            content = replace(view.state.content,
                              readings=(*view.state.content.readings, to_note_reading(reading, user.display_name)))
            try:
                # At the consultation's address: the first reading of a consultation creates its note.
                await self._notes.save_for_booking(session, actor, booking_id, based_on=view.state.version,
                                                   content=content, reason="reading from the call")
            except NoteLocked:
                log.info("note for %s is signed; the reading stays in the call's log", booking_id)
