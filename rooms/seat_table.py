"""The seats of one room, found by participant id, by the person's subject, or by resume token.

One object keeps the three indexes, so a seat is never in one of them and missing from another.
Only hashes of resume tokens are kept: a memory dump or a debug log of the room does not hand out seats.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator

from rooms.roster import ParticipantId, SeatStatus
from rooms.seats import Seat

RESUME_TOKEN_BYTES = 32  # 256 bits; the brief asks for at least 128


def token_hash(token: str) -> str:
    """The stored form of a resume token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_resume_token() -> str:
    """A fresh resume token for a seat (handed to its holder once, stored only hashed)."""
    return secrets.token_urlsafe(RESUME_TOKEN_BYTES)


class SeatTable:
    """Every seat of a room, waiting or admitted."""

    def __init__(self) -> None:
        self._seats: dict[ParticipantId, Seat] = {}
        self._by_subject: dict[str, ParticipantId] = {}
        self._by_token: dict[str, ParticipantId] = {}

    def __iter__(self) -> Iterator[Seat]:
        return iter(list(self._seats.values()))

    def ids(self) -> frozenset[ParticipantId]:
        return frozenset(self._seats)

    def get(self, participant_id: ParticipantId) -> Seat | None:
        return self._seats.get(participant_id)

    def for_subject(self, subject: str) -> Seat | None:
        participant_id = self._by_subject.get(subject)
        return None if participant_id is None else self._seats.get(participant_id)

    def for_token(self, token: str) -> Seat | None:
        participant_id = self._by_token.get(token_hash(token))
        return None if participant_id is None else self._seats.get(participant_id)

    def add(self, seat: Seat) -> None:
        self._seats[seat.participant_id] = seat
        self._by_subject[seat.identity.subject] = seat.participant_id
        self._by_token[seat.token_hash] = seat.participant_id

    def rotate_token(self, seat: Seat) -> str:
        """Give the seat a new resume token; the old one stops working."""
        token = new_resume_token()
        self._by_token.pop(seat.token_hash, None)
        seat.token_hash = token_hash(token)
        self._by_token[seat.token_hash] = seat.participant_id
        return token

    def drop(self, seat: Seat) -> None:
        del self._seats[seat.participant_id]
        self._by_subject.pop(seat.identity.subject, None)
        self._by_token.pop(seat.token_hash, None)

    def clear(self) -> None:
        self._seats.clear()
        self._by_subject.clear()
        self._by_token.clear()

    def with_status(self, status: SeatStatus) -> list[Seat]:
        return [s for s in self._seats.values() if s.status is status]
