"""The append-only audit log, each row chained to the previous one by a SHA-256 hash.

Every service that reads or writes health data calls ``record`` inside its own unit of work, so
the audit row commits (or rolls back) together with what it describes. Writers are serialised by
updating the single ``audit_head`` row first: on SQLite that takes the write lock, on PostgreSQL
a row lock, so two writers can never chain to the same predecessor.

Pages that only read use ``reading``: the read runs in a read-only unit of work that holds no write
lock, the services' rows are kept aside meanwhile, and they are appended together in one short unit of
work after the read and before anything is shown. If that fails, the page fails: nothing is shown
that is not logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.platform.actors import Actor
from server.platform.audit_models import AuditEntry, AuditHead
from server.platform.clock import Clock
from server.platform.db import Database

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
# The same for a group of rows: one statement takes ``count`` sequence numbers at once.
_BUMP_HEAD_BY = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(last_seq=_HEAD.c.last_seq + bindparam("count"))
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


DEFERRED_ROWS = "samkonsult_deferred_audit_rows"
"""``session.info`` key of a read-only unit of work's rows, written once the read is over."""


@dataclass(frozen=True)
class AuditRow:
    """One row to append: what ``AuditLog.record`` takes besides the session."""

    actor: Actor
    action: str
    object_type: str
    object_id: str
    patient_id: int | None = None
    reason: str = ""


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
        """Append one row in the caller's transaction (or, in ``reading``, once the read is over)."""
        row = AuditRow(actor, action, object_type, str(object_id), patient_id, reason)
        deferred = session.info.get(DEFERRED_ROWS)
        if deferred is not None:
            deferred.append(row)
            return
        await self.record_many(session, [row])

    async def record_many(self, session: AsyncSession, rows: Sequence[AuditRow]) -> None:
        """Append ``rows`` in order in the caller's transaction: three statements whatever their number.

        A list page that shows 200 bookings appends its rows with one ``UPDATE`` of the head (taking
        all the sequence numbers at once), one multi-row ``INSERT`` and one ``UPDATE`` of the head's hash.
        """
        if not rows:
            return
        deferred = session.info.get(DEFERRED_ROWS)
        if deferred is not None:
            deferred.extend(rows)
            return
        # Plain table statements, built once: every chat message, reading and page view writes a row,
        # and the ORM's unit of work cost more than the three statements themselves. The caller's own
        # pending changes are flushed first, as before: they may be what the row describes.
        await session.flush()
        bump = _BUMP_HEAD if len(rows) == 1 else _BUMP_HEAD_BY
        params = {} if len(rows) == 1 else {"count": len(rows)}
        bumped = (await session.execute(bump, params)).first()
        if bumped is None:
            await self.ensure_head(session)
            bumped = (await session.execute(bump, params)).one()
        last_seq, prev_hash = bumped
        at = self._clock.now()
        entries: list[dict[str, object]] = []
        for seq, row in enumerate(rows, start=last_seq - len(rows) + 1):
            fields: dict[str, object] = {
                "seq": seq,
                "at": at,
                "actor_kind": row.actor.kind,
                "actor_id": row.actor.id,
                "actor_name": row.actor.name,
                "role": row.actor.role,
                "organisation": row.actor.organisation_name,
                "patient_id": row.patient_id,
                "object_type": row.object_type,
                "object_id": row.object_id,
                "action": row.action,
                "reason": row.reason,
            }
            entry_hash = _entry_hash(prev_hash, fields)
            entries.append({**fields, "prev_hash": prev_hash, "hash": entry_hash})
            prev_hash = entry_hash
        await session.execute(_INSERT_ENTRY, entries[0] if len(entries) == 1 else entries)
        await session.execute(_SET_HEAD_HASH, {"last_hash": prev_hash})

    @asynccontextmanager
    async def reading(self, database: Database) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work whose audit rows are appended, in one go, right after it.

        For pages and API reads that change nothing: the read holds no write lock (on SQLite the
        outbox, the reminders and bookings go on meanwhile), and the rows the services record are
        written afterwards in one short unit of work. The block's caller shows nothing before this
        context manager has returned, so a failed write of the rows fails the request.
        """
        rows: list[AuditRow] = []
        async with database.session(read_only=True) as session:
            session.info[DEFERRED_ROWS] = rows
            yield session
        if rows:
            async with database.session() as session:
                await self.record_many(session, rows)

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
