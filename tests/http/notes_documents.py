"""What the notes HTTP tests share: the seeded consultation and note documents as the API takes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from scheduling.models import Booking
from server.people.models import Patient
from server.platform.db import Database


async def seeded_booking(db: Database) -> str:
    """The public id of the test data's consultation for Marit Eriksen (the demo has another, for Astrid)."""
    async with db.session() as session:
        return (await session.execute(select(Booking.public_id).join(Patient, Booking.patient_id == Patient.id)
                                      .where(Patient.given_name == "Marit"))).scalars().one()


def note_document(**parts: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema": 1, "what_matters": None, "acp": None, "risks": [], "measures": [],
                           "readings": [], "profession_texts": [],
                           "assessment": {"physical": None, "psychological": None, "cognitive": None,
                                          "psychosocial": None}}
    doc.update(parts)
    return doc


WHAT_MATTERS = {"own_words": "Å bo hjemme", "goals": ["Gå tur"]}
