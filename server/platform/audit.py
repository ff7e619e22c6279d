"""The append-only audit log, each row chained to the previous one by an HMAC-SHA256.

The chain is keyed with a secret kept outside the database (``SAMKONSULT_AUDIT_KEY``): someone who can
write the database can change a row, but cannot compute the hashes that would hide it. What the key
cannot show (a cut tail with ``audit_head`` moved back, or every row deleted) the signed checkpoints of
the head, written to a file outside the database, show (``audit_checkpoints``).

Installations older than the key have rows hashed with plain SHA-256: those rows, up to the head's
``keyed_from`` marker set by the migration, are checked the old way, and the marker itself is in every
checkpoint, so moving it to pass off recomputed rows as old ones is detected too.

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

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.platform.actors import Actor
from server.platform.audit_checkpoints import Checkpoint, CheckpointFile, CheckpointProblem
from server.platform.audit_models import AuditEntry, AuditHead
from server.platform.clock import Clock
from server.platform.db import Database
from server.platform.settings import Settings

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


_PROCESS_KEY = secrets.token_bytes(32)
"""The key of an ``AuditLog`` built without one (tests, tools): a chain only this process can verify.

The server and the command line always pass the configured ``SAMKONSULT_AUDIT_KEY``.
"""


def _canonical(prev_hash: str, fields: dict[str, object]) -> bytes:
    # Times hash as ISO 8601, the form they have always had in the chain.
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=datetime.isoformat)
    return (prev_hash + canonical).encode("utf-8")


def _legacy_hash(prev_hash: str, fields: dict[str, object]) -> str:
    """The unkeyed SHA-256 of rows written before the chain had a key (below ``keyed_from``)."""
    return hashlib.sha256(_canonical(prev_hash, fields)).hexdigest()


def _keyed_hash(key: bytes, prev_hash: str, fields: dict[str, object]) -> str:
    return hmac.new(key, _canonical(prev_hash, fields), hashlib.sha256).hexdigest()


def audit_key_bytes(secret: str) -> bytes:
    """The HMAC key for a configured secret (the setting's text, as UTF-8)."""
    return secret.encode("utf-8")


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
    """What is wrong, for people to read worded: ``missing``, ``out_of_order``, ``changed``, ``truncated``,
    ``checkpoint_missing`` (a checkpointed row is gone or the head is behind it), ``checkpoint_changed``
    (a checkpointed row's hash differs), ``checkpoint_marker`` (the unkeyed-rows marker was moved) or
    ``checkpoint_forged`` (the checkpoint file itself was altered)."""
    checkpoints: int = 0
    """How many signed checkpoints the chain was checked against."""
    legacy: int = 0
    """How many of the rows are from before the chain had a key (checked with plain SHA-256)."""


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


def configured_audit_log(clock: Clock, settings: Settings) -> AuditLog:
    """The audit log with the configured key and checkpoint file (the server's and the CLI's)."""
    key = audit_key_bytes(settings.audit_key) if settings.audit_key else None
    checkpoints = (CheckpointFile(settings.audit_checkpoint_file, key)
                   if settings.audit_checkpoint_file and key is not None else None)
    return AuditLog(clock, key, checkpoints)


class AuditLog:
    """Writes and checks the audit chain.

    ``key`` is the HMAC key (``audit_key_bytes`` of the setting); ``checkpoints`` the file of signed
    checkpoints that ``verify`` checks the database against and ``write_checkpoint`` appends to.
    """

    def __init__(self, clock: Clock, key: bytes | None = None,
                 checkpoints: CheckpointFile | None = None) -> None:
        self._clock = clock
        self._key = key if key is not None else _PROCESS_KEY
        self._checkpoints = checkpoints

    @property
    def checkpoints(self) -> CheckpointFile | None:
        return self._checkpoints

    async def ensure_head(self, session: AsyncSession) -> None:
        if await session.get(AuditHead, 1) is None:
            # A new chain is keyed from its first row.
            session.add(AuditHead(id=1, last_seq=0, last_hash=GENESIS, keyed_from=1))
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
            entry_hash = _keyed_hash(self._key, prev_hash, fields)
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
        """Recompute the chain and hold it against the signed checkpoints; report the first problem.

        Finds a changed, inserted or removed row (the keyed hashes), and, with a checkpoint file, a cut
        tail with the head moved back, a deleted log, and a moved ``keyed_from`` marker.
        """
        marks: dict[int, Checkpoint] = {}
        newest: Checkpoint | None = None
        if self._checkpoints is not None:
            try:
                # A file of a year's checkpoints is read off the serving loop.
                for mark in await asyncio.to_thread(self._checkpoints.read):
                    marks[mark.seq] = mark
                    if newest is None or mark.seq >= newest.seq:
                        newest = mark
            except CheckpointProblem as exc:
                return VerifyResult(False, 0, f"the checkpoint file was altered (line {exc.line})", None,
                                    "checkpoint_forged")
        head = await session.get(AuditHead, 1)
        keyed_from = head.keyed_from if head is not None else 1
        if newest is not None and newest.keyed_from != keyed_from:
            return VerifyResult(False, 0, "the marker of rows from before the audit key was moved "
                                f"(from {newest.keyed_from} to {keyed_from})", newest.keyed_from,
                                "checkpoint_marker", len(marks))
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
                    return VerifyResult(False, checked, f"row {expected_seq} is missing", expected_seq, "missing",
                                        len(marks))
                if entry.prev_hash != prev:
                    return VerifyResult(False, checked, f"row {entry.seq} does not follow its predecessor",
                                        entry.seq, "out_of_order", len(marks))
                fields = _fields(entry)
                expected = (_legacy_hash(prev, fields) if entry.seq < keyed_from
                            else _keyed_hash(self._key, prev, fields))
                if not hmac.compare_digest(expected, entry.hash):
                    return VerifyResult(False, checked, f"row {entry.seq} was changed", entry.seq, "changed",
                                        len(marks))
                seen = marks.get(entry.seq)
                if seen is not None and seen.head_hash != entry.hash:
                    return VerifyResult(False, checked, f"row {entry.seq} differs from the checkpoint of "
                                        f"{seen.at}", entry.seq, "checkpoint_changed", len(marks))
                prev = entry.hash
                expected_seq += 1
                checked += 1
                last_seq = entry.seq
        if newest is not None and newest.seq > checked:
            return VerifyResult(False, checked, f"the checkpoint of {newest.at} saw {newest.seq} rows, the "
                                f"database has {checked}: rows were removed from the end",
                                checked + 1, "checkpoint_missing", len(marks))
        if head is not None and (head.last_seq != checked or head.last_hash != prev):
            return VerifyResult(False, checked, "rows were removed from the end of the log", checked + 1,
                                "truncated", len(marks))
        return VerifyResult(True, checked, checkpoints=len(marks), legacy=min(checked, keyed_from - 1))

    async def write_checkpoint(self, session: AsyncSession) -> Checkpoint | None:
        """Append a signed checkpoint of the head to the checkpoint file, unless it saw this head already.

        Returns what was written (``None`` without a file or when nothing was appended since).
        """
        if self._checkpoints is None:
            return None
        head = await session.get(AuditHead, 1)
        seq, head_hash, keyed_from = (head.last_seq, head.last_hash, head.keyed_from) if head else (0, GENESIS, 1)
        return await asyncio.to_thread(self._checkpoints.append, seq, head_hash, keyed_from, self._clock.now())

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
