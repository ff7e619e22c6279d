"""The audit chain on a real database: appends, detects forged and removed rows, survives concurrency."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import delete, text, update

from server.platform.actors import Actor
from server.platform.audit import AuditLog, audit_key_bytes
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database

ACTOR = Actor(kind="staff", id="user:1", name="Kari Nilsen", role="nurse", organisation_id=2,
              organisation_name="Rødøy kommune", user_id=1)


async def _write(db: Database, audit: AuditLog, n: int, patient_id: int = 7) -> None:
    for i in range(n):
        async with db.session() as session:
            await audit.record(session, ACTOR, action="read", object_type="patient", object_id=f"p{i}",
                               patient_id=patient_id, reason="Planlagt samkonsultasjon")


async def test_intact_chain_verifies(db: Database, clock: FixedClock) -> None:
    audit = AuditLog(clock)
    await _write(db, audit, 5)
    async with db.session() as session:
        result = await audit.verify(session)
    assert result.ok and result.checked == 5


async def test_forged_row_is_detected(db: Database, clock: FixedClock) -> None:
    audit = AuditLog(clock)
    await _write(db, audit, 5)
    async with db.session() as session:
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor_name="Someone Else"))
    async with db.session() as session:
        result = await audit.verify(session)
    assert not result.ok and result.seq == 3 and "changed" in result.problem


async def test_removed_row_is_detected(db: Database, clock: FixedClock) -> None:
    audit = AuditLog(clock)
    await _write(db, audit, 5)
    async with db.session() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    async with db.session() as session:
        result = await audit.verify(session)
    assert not result.ok and result.seq == 2


async def test_removed_tail_is_detected(db: Database, clock: FixedClock) -> None:
    audit = AuditLog(clock)
    await _write(db, audit, 5)
    async with db.session() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
    async with db.session() as session:
        result = await audit.verify(session)
    assert not result.ok and "end" in result.problem


async def test_recomputed_forgery_is_caught_at_the_row(db: Database, clock: FixedClock) -> None:
    """Rewriting a row and its own hash without the key does not give the keyed hash."""
    import hashlib
    import json

    audit = AuditLog(clock)
    await _write(db, audit, 4)
    async with db.session() as session:
        row = await session.get(AuditEntry, 2)
        assert row is not None
        row.reason = "forged"
        fields = {k: getattr(row, k) for k in ("seq", "actor_kind", "actor_id", "actor_name", "role",
                                              "organisation", "patient_id", "object_type", "object_id",
                                              "action", "reason")}
        fields["at"] = row.at.isoformat()
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        row.hash = hashlib.sha256((row.prev_hash + canonical).encode()).hexdigest()
    async with db.session() as session:
        result = await audit.verify(session)
    assert not result.ok and result.seq == 2 and result.code == "changed"


async def test_concurrent_writers_form_one_chain(db: Database, clock: FixedClock) -> None:
    audit = AuditLog(clock)
    await asyncio.gather(*[_write(db, audit, 5, patient_id=i) for i in range(8)])
    async with db.session() as session:
        result = await audit.verify(session)
        count = (await session.execute(text("SELECT count(*) FROM audit_entries"))).scalar_one()
    assert result.ok and result.checked == 40 == count


async def test_patient_access_list(db: Database, clock: FixedClock) -> None:
    audit = AuditLog(clock)
    await _write(db, audit, 3, patient_id=42)
    await _write(db, audit, 2, patient_id=43)
    async with db.session() as session:
        records = await audit.accesses_for_patient(session, 42)
    assert len(records) == 3
    assert {r.actor_name for r in records} == {"Kari Nilsen"}
    assert all(r.reason == "Planlagt samkonsultasjon" for r in records)


async def test_cli_detects_a_forged_row(database_url: str, db: Database, clock: FixedClock,
                                        tmp_path: Path) -> None:
    import os
    import sys

    audit = AuditLog(clock, audit_key_bytes("a" * 32))
    await _write(db, audit, 3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMKONSULT_")}
    env.update({"SAMKONSULT_DATABASE_URL": database_url, "SAMKONSULT_SESSION_SECRET": "s" * 32,
                "SAMKONSULT_TOTP_ENCRYPTION_KEY": "k" * 32, "SAMKONSULT_AUDIT_KEY": "a" * 32,
                "SAMKONSULT_AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl")})

    async def run() -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "server.cli", "audit", "verify",
                                                    env=env, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        return proc.returncode or 0, (out + err).decode()

    code, output = await run()
    assert code == 0 and "intact" in output
    async with db.session() as session:
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(reason="changed"))
    code, output = await run()
    assert code == 1 and "BROKEN" in output
