"""What the notes HTTP tests share: the seeded consultation and note documents as the API takes them."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from scheduling.models import Booking
from server.people.models import Patient
from server.platform.db import Database
from tests.helpers import api_headers


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


async def created_note(client: TestClient, booking: str, token: str, reason: str = "") -> dict[str, Any]:
    """The consultation's note after a first save of nothing: created, empty, at version 1.

    Opening a note creates nothing (a GET changes nothing); the first save does, at the consultation's
    address with ``based_on`` 0.
    """
    query = f"?reason={reason}" if reason else ""
    resp = await client.put(f"/api/bookings/{booking}/note{query}", headers=api_headers(token),
                            json={"based_on": 0, "content": note_document()})
    assert resp.status == 200, await resp.text()
    note: dict[str, Any] = (await resp.json())["note"]
    return note
