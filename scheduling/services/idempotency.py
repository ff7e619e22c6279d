"""``Idempotency-Key`` support on top of ``server.platform.idempotency_models.IdempotencyRecord``.

The same key from the same actor with the same request gets the stored answer again; the same key
with a different request is a conflict (code ``idempotency_key_reused``), because answering it would
silently drop what the client asked for the second time.

Two requests with the same key can arrive at the same moment (a client that retries after a short
timeout, a double click). The first thing a request with a key does is therefore to *claim* the key:
it inserts the key's row before doing any work, with ``ON CONFLICT DO NOTHING``. On PostgreSQL the
second request's insert waits on the unique index until the first request's transaction ends; if
that committed, the second finds the first answer and returns it; if it rolled back (the booking
was refused), the second claims the key and does the work itself. On SQLite the booking's
``BEGIN IMMEDIATE`` already puts the two one after the other. The claimed row is filled in with the
answer in the same transaction, so no one ever sees a claim without its answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from server.platform.actors import Actor
from server.platform.clock import Clock
from server.platform.errors import Conflict, ValidationFailed
from server.platform.idempotency_models import IdempotencyRecord

MAX_KEY_LENGTH = 200
_RECORDS = cast(Table, IdempotencyRecord.__table__)


def request_hash(payload: object) -> str:
    """SHA-256 of a canonical JSON form of ``payload`` (dates and other objects via ``str``)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: str


class IdempotencyKeys:
    """Looks up and stores answers per (actor, key), in the caller's unit of work."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def lookup(self, session: AsyncSession, actor: Actor, key: str, req_hash: str) -> StoredAnswer | None:
        """The stored answer for a replay, ``None`` for a new key; ``Conflict`` for a reused key."""
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationFailed("bad Idempotency-Key", {"idempotency_key": "invalid"})
        row = (await session.execute(select(IdempotencyRecord).where(
            IdempotencyRecord.actor == actor.id, IdempotencyRecord.key == key))).scalar_one_or_none()
        if row is None:
            return None
        if row.request_hash != req_hash:
            raise Conflict("this Idempotency-Key was used for another request", code="idempotency_key_reused")
        return StoredAnswer(row.status, row.body)

    async def claim(self, session: AsyncSession, actor: Actor, key: str, req_hash: str) -> StoredAnswer | None:
        """The first answer for a replay (waiting for a request with the same key still under way), or
        ``None`` once this request holds the key and must do the work and then :meth:`store` its answer.

        ``Conflict`` (``idempotency_key_reused``) when the key was used for another request.
        """
        stored = await self.lookup(session, actor, key, req_hash)
        if stored is not None:
            return stored
        dialect = (await session.connection()).dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        claimed = (await session.execute(
            insert(_RECORDS).values(actor=actor.id, key=key, request_hash=req_hash, status=0, body="",
                                    created_at=self._clock.now())
            .on_conflict_do_nothing(index_elements=[_RECORDS.c.actor, _RECORDS.c.key])
            .returning(_RECORDS.c.id))).first()
        if claimed is not None:
            return None
        # Another request with this key committed while we waited on the unique index: its answer
        # (read in a fresh snapshot, PostgreSQL's read committed) is ours.
        stored = await self.lookup(session, actor, key, req_hash)
        if stored is None or stored.status == 0:
            raise Conflict("a request with this Idempotency-Key is still under way", code="idempotency_key_busy")
        return stored

    async def store(self, session: AsyncSession, actor: Actor, key: str, req_hash: str, status: int,
                    body: str) -> None:
        """Fill in the answer of the key this request claimed (or record it, if it claimed none)."""
        done = await session.execute(
            update(_RECORDS).where(_RECORDS.c.actor == actor.id, _RECORDS.c.key == key,
                                   _RECORDS.c.request_hash == req_hash)
            .values(status=status, body=body))
        if getattr(done, "rowcount", 0) == 0:
            session.add(IdempotencyRecord(actor=actor.id, key=key, request_hash=req_hash, status=status,
                                          body=body, created_at=self._clock.now()))
            await session.flush()
