"""``Idempotency-Key`` support on top of ``server.platform.idempotency_models.IdempotencyRecord``.

The same key from the same actor with the same request gets the stored answer again; the same key
with a different request is a conflict (code ``idempotency_key_reused``), because answering it would
silently drop what the client asked for the second time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.platform.actors import Actor
from server.platform.clock import Clock
from server.platform.errors import Conflict, ValidationFailed
from server.platform.idempotency_models import IdempotencyRecord

MAX_KEY_LENGTH = 200


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

    async def store(self, session: AsyncSession, actor: Actor, key: str, req_hash: str, status: int,
                    body: str) -> None:
        session.add(IdempotencyRecord(actor=actor.id, key=key, request_hash=req_hash, status=status, body=body,
                                      created_at=self._clock.now()))
        await session.flush()
