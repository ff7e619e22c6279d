"""What notes need to know about the consultation a note belongs to, asked through a small interface.

Bookings belong to scheduling; notes never import it. The composition root implements
:class:`ConsultationDirectory` (``server/consultation_directory.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from notes.model import ExportConsultation


@dataclass(frozen=True)
class Consultation:
    """The booked consultation a note documents."""

    id: int
    public_id: str
    patient_id: int
    start: datetime


class ConsultationDirectory(Protocol):
    """Finds consultations and who takes part in them, in the caller's unit of work."""

    async def by_public_id(self, session: AsyncSession, public_id: str) -> Consultation | None:
        """The consultation with this public id, or ``None``."""
        ...

    async def by_id(self, session: AsyncSession, consultation_id: int) -> Consultation | None:
        """The consultation with this row id, or ``None``."""
        ...

    async def takes_part(self, session: AsyncSession, consultation_id: int, user_id: int) -> bool:
        """Whether the staff user takes part in the consultation."""
        ...

    async def details(self, session: AsyncSession, consultation_id: int) -> ExportConsultation | None:
        """When and where the consultation is and who takes part (profession, organisation), for the
        note's exports; ``None`` for a consultation that does not exist."""
        ...
