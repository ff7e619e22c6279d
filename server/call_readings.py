"""Readings shared in a live consultation are kept in that consultation's joint note.

Glue between two domains (``rooms`` and ``notes``), so it lives in the composition root. The reading
is written as the staff member who took it; if the note is already signed, it stays in the call and
the audit log only (a signed note takes amendments, not silent additions).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal

from notes.errors import NoteLocked
from notes.model import UCUM_UNITS, ReadingKind, new_item_id
from notes.model import Reading as NoteReading
from notes.service import NoteService
from rooms.room import Reading as CallReading
from rooms.room import ReadingName
from rooms.roster import Identity
from server.people.models import User
from server.people.staff_actor import staff_actor
from server.platform.db import Database

log = logging.getLogger(__name__)

_KINDS = {
    ReadingName.BLOOD_PRESSURE: ReadingKind.BLOOD_PRESSURE,
    ReadingName.SPO2: ReadingKind.SPO2,
    ReadingName.PULSE: ReadingKind.PULSE,
    ReadingName.TEMPERATURE: ReadingKind.TEMPERATURE,
    ReadingName.WEIGHT: ReadingKind.BODY_WEIGHT,
}


def to_note_reading(reading: CallReading, taken_by: str) -> NoteReading:
    """The call's reading in the note's terms (UCUM units, systolic and diastolic apart)."""
    kind = _KINDS[reading.name]
    diastolic: Decimal | None = None
    if kind is ReadingKind.BLOOD_PRESSURE:
        systolic, dia = str(reading.value).split("/")
        value, diastolic = Decimal(systolic), Decimal(dia)
    else:
        value = Decimal(str(reading.value))
    return NoteReading(id=new_item_id(), kind=kind, value=value, unit=UCUM_UNITS[kind],
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
                await self._notes.save(session, actor, view.public_id, based_on=view.state.version, content=content,
                                       reason="reading from the call")
            except NoteLocked:
                log.info("note for %s is signed; the reading stays in the call's log", booking_id)
