"""The tables of live consultations: one-time join codes and the short guest sessions they buy.

Only hashes are stored: the plain join code exists once, when it is issued, and the guest's cookie token
only in the guest's browser. Tables are prefixed ``room_`` so they sort together.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from rooms.join_codes import JoinCodeRecord, JoinGrant
from rooms.roster import ParticipantRole
from server.platform.clock import Clock
from server.platform.db import Database
from server.platform.model_base import Base


class JoinCode(Base):
    """A one-time join code for one person in one room; ``code_hash`` is the SHA-256 of the code."""

    __tablename__ = "room_join_codes"
    __table_args__ = (Index("ix_room_join_codes_room", "room_id"),)

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    code_id: Mapped[str] = mapped_column(String(32), unique=True)
    room_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class GuestSession(Base):
    """A guest's short session in one room, bought with a join code; only the token's hash is kept."""

    __tablename__ = "room_guest_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    code_id: Mapped[str] = mapped_column(
        ForeignKey("room_join_codes.code_id", ondelete="CASCADE"), index=True
    )
    room_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


def _record(row: JoinCode) -> JoinCodeRecord:
    return JoinCodeRecord(
        code_id=row.code_id,
        code_hash=row.code_hash,
        room_id=row.room_id,
        role=ParticipantRole(row.role),
        display_name=row.display_name,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        created_at=row.created_at,
        created_by=row.created_by,
        used_at=row.used_at,
    )


class SqlJoinCodeRepository:
    """``JoinCodeRepository`` on the database; each call is its own unit of work."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, record: JoinCodeRecord) -> None:
        async with self._db.session() as session:
            session.add(
                JoinCode(
                    code_hash=record.code_hash,
                    code_id=record.code_id,
                    room_id=record.room_id,
                    role=record.role.value,
                    display_name=record.display_name,
                    valid_from=record.valid_from,
                    valid_until=record.valid_until,
                    created_at=record.created_at,
                    created_by=record.created_by,
                    used_at=record.used_at,
                )
            )

    async def find(self, code_hash: str) -> JoinCodeRecord | None:
        async with self._db.session() as session:
            row = await session.get(JoinCode, code_hash)
            return None if row is None else _record(row)

    async def mark_used(self, code_hash: str, used_at: datetime) -> bool:
        # The WHERE on used_at makes the update the arbiter: of two concurrent redemptions one changes
        # a row and the other changes none, on SQLite and PostgreSQL alike.
        async with self._db.session(write_lock=True) as session:
            result = await session.execute(
                update(JoinCode)
                .where(JoinCode.code_hash == code_hash, JoinCode.used_at.is_(None))
                .values(used_at=used_at)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class GuestSessionStore:
    """Creates and loads guest sessions (the cookie holds a random token, the table its hash)."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    async def create(self, grant: JoinGrant, expires_at: datetime) -> str:
        """A new session for a redeemed code; returns the token for the cookie."""
        token = secrets.token_urlsafe(32)
        async with self._db.session() as session:
            session.add(
                GuestSession(
                    token_hash=_hash(token),
                    code_id=grant.code_id,
                    room_id=grant.room_id,
                    role=grant.role.value,
                    display_name=grant.display_name,
                    created_at=self._clock.now(),
                    expires_at=expires_at,
                )
            )
        return token

    async def load(self, token: str) -> JoinGrant | None:
        """The grant behind a cookie token, or None when unknown or expired."""
        if not token or len(token) > 128:
            return None
        async with self._db.session() as session:
            row = (
                await session.execute(select(GuestSession).where(GuestSession.token_hash == _hash(token)))
            ).scalar_one_or_none()
            if row is None or row.expires_at <= self._clock.now():
                return None
            return JoinGrant(row.code_id, row.room_id, ParticipantRole(row.role), row.display_name)
