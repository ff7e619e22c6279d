"""The append-only audit log, each row chained to the previous one by a SHA-256 hash.

Every service that reads or writes health data calls ``record`` inside its own unit of work, so
the audit row commits (or rolls back) together with what it describes. Writers are serialised by
updating the single ``audit_head`` row first: on SQLite that takes the write lock, on PostgreSQL
a row lock, so two writers can never chain to the same predecessor.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.platform.actors import Actor
from server.platform.audit_models import AuditEntry, AuditHead
from server.platform.clock import Clock

log = logging.getLogger(__name__)

GENESIS = "0" * 64

_HEAD = cast(Table, AuditHead.__table__)
# Takes the next sequence number and the predecessor's hash in one statement, and with them the write
# lock (SQLite) or the head row's lock (PostgreSQL): two writers can never chain to the same row.
_BUMP_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(last_seq=_HEAD.c.last_seq + 1)
    .returning(_HEAD.c.last_seq, _HEAD.c.last_hash)
)
_SET_HEAD_HASH = update(_HEAD).where(_HEAD.c.id == 1).values(last_hash=bindparam("last_hash"))
_INSERT_ENTRY = insert(cast(Table, AuditEntry.__table__))


_HASHED = ("seq", "at", "actor_kind", "actor_id", "actor_name", "role", "organisation", "patient_id",
           "object_type", "object_id", "action", "reason")
"""The columns a row's hash covers (all but its own id and the hashes)."""


def _entry_hash(prev_hash: str, fields: dict[str, object]) -> str:
    # Times hash as ISO 8601, the form they have always had in the chain.
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=datetime.isoformat)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _fields(entry: AuditEntry) -> dict[str, object]:
    return {name: getattr(entry, name) for name in _HASHED}


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str = ""
    seq: int | None = None
    code: str = ""
    """What is wrong, for people to read worded: ``missing``, ``out_of_order``, ``changed`` or ``truncated``."""


@dataclass(frozen=True)
class AccessRecord:
    """One line of a patient's access log: who looked at what, and when."""

    at: datetime
    actor_name: str
    role: str
    organisation: str
    object_type: str
    object_id: str
    action: str
    reason: str


class AuditLog:
    """Writes and checks the audit chain."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def ensure_head(self, session: AsyncSession) -> None:
        if await session.get(AuditHead, 1) is None:
            session.add(AuditHead(id=1, last_seq=0, last_hash=GENESIS))
            await session.flush()

    async def record(
        self,
        session: AsyncSession,
        actor: Actor,
        *,
        action: str,
        object_type: str,
        object_id: str | int,
        patient_id: int | None = None,
        reason: str = "",
    ) -> None:
        """Append one row in the caller's transaction."""
        # Plain table statements, built once: every chat message, reading and page view writes a row,
        # and the ORM's unit of work cost more than the three statements themselves. The caller's own
        # pending changes are flushed first, as before: they may be what the row describes.
        await session.flush()
        bumped = (await session.execute(_BUMP_HEAD)).first()
        if bumped is None:
            await self.ensure_head(session)
            bumped = (await session.execute(_BUMP_HEAD)).one()
        seq, prev_hash = bumped
        fields: dict[str, object] = {
            "seq": seq,
            "at": self._clock.now(),
            "actor_kind": actor.kind,
            "actor_id": actor.id,
            "actor_name": actor.name,
            "role": actor.role,
            "organisation": actor.organisation_name,
            "patient_id": patient_id,
            "object_type": object_type,
            "object_id": str(object_id),
            "action": action,
            "reason": reason,
        }
        entry_hash = _entry_hash(prev_hash, fields)
        await session.execute(_INSERT_ENTRY, {**fields, "prev_hash": prev_hash, "hash": entry_hash})
        await session.execute(_SET_HEAD_HASH, {"last_hash": entry_hash})

    async def verify(self, session: AsyncSession, batch: int = 5000) -> VerifyResult:
        """Recompute the chain; report the first changed, inserted or removed row."""
        prev = GENESIS
        expected_seq = 1
        checked = 0
        last_seq = 0
        while True:
            rows = (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq).limit(batch)
                )
            ).scalars().all()
            if not rows:
                break
            for entry in rows:
                if entry.seq != expected_seq:
                    return VerifyResult(False, checked, f"row {expected_seq} is missing", expected_seq, "missing")
                if entry.prev_hash != prev:
                    return VerifyResult(False, checked, f"row {entry.seq} does not follow its predecessor",
                                        entry.seq, "out_of_order")
                if _entry_hash(prev, _fields(entry)) != entry.hash:
                    return VerifyResult(False, checked, f"row {entry.seq} was changed", entry.seq, "changed")
                prev = entry.hash
                expected_seq += 1
                checked += 1
                last_seq = entry.seq
        head = await session.get(AuditHead, 1)
        if head is not None and (head.last_seq != checked or head.last_hash != prev):
            return VerifyResult(False, checked, "rows were removed from the end of the log", checked + 1,
                                "truncated")
        return VerifyResult(True, checked)

    async def accesses_for_patient(
        self, session: AsyncSession, patient_id: int, limit: int = 500
    ) -> list[AccessRecord]:
        """Who read or wrote this patient's data, newest first (the patient's right to know)."""
        rows = (
            await session.execute(
                select(AuditEntry)
                .where(AuditEntry.patient_id == patient_id)
                .order_by(AuditEntry.seq.desc())
                .limit(limit)
            )
        ).scalars().all()
        return [
            AccessRecord(
                at=r.at, actor_name=r.actor_name, role=r.role, organisation=r.organisation,
                object_type=r.object_type, object_id=r.object_id, action=r.action, reason=r.reason,
            )
            for r in rows
        ]
