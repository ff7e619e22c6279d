"""Audit rows written in shared commits: every caller waits for its own row, the chain stays whole."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from server.platform.actors import Actor
from server.platform.audit import AuditLog
from server.platform.audit_batch import AuditRow, GroupCommitAudit
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database

ACTOR = Actor(kind="guest", id="code:7", name="Kari Nordmann", role="relative", organisation_id=None,
              organisation_name="")


def _row(i: int) -> AuditRow:
    return AuditRow(ACTOR, action="chat_posted", object_type="consultation", object_id="booking-1",
                    patient_id=7, reason=f"message {i}")


async def _count(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one())


async def test_a_burst_of_rows_shares_commits_and_each_is_there_when_its_call_returns(
        db: Database, clock: FixedClock) -> None:
    audit = AuditLog(clock)
    rows = GroupCommitAudit(db, audit)

    async def post(i: int) -> int:
        await rows.record(_row(i))
        return await _count(db)  # what a reader sees once the message could be shown

    seen = await asyncio.gather(*(post(i) for i in range(200)))
    await rows.close()
    assert all(count >= 1 for count in seen)
    assert await _count(db) == 200
    assert rows.commits < 200, "rows that arrived during a commit went into the next one together"
    async with db.session() as session:
        result = await audit.verify(session)
        reasons = (await session.execute(select(AuditEntry.reason).order_by(AuditEntry.seq))).scalars().all()
    assert result.ok and result.checked == 200
    assert sorted(reasons) == sorted(f"message {i}" for i in range(200))


class _Failing(AuditLog):
    """Refuses one row, as a full disk or a lost database connection would."""

    async def record_many(self, session, rows):  # type: ignore[no-untyped-def,override]
        if any(row.reason == "message 3" for row in rows):
            raise RuntimeError("disk full")
        await super().record_many(session, rows)


async def test_a_failed_commit_refuses_the_callers_in_it_and_later_rows_are_written(
        db: Database, clock: FixedClock) -> None:
    rows = GroupCommitAudit(db, _Failing(clock), max_rows=4)
    results = await asyncio.gather(*(rows.record(_row(i)) for i in range(8)), return_exceptions=True)
    await rows.close()
    failed = [i for i, result in enumerate(results) if isinstance(result, RuntimeError)]
    assert 3 in failed, "the caller whose row could not be written is told so"
    assert all(result is None for i, result in enumerate(results) if i not in failed)
    assert await _count(db) == 8 - len(failed)
    await rows.record(_row(99))
    assert await _count(db) == 9 - len(failed)
    async with db.session() as session:
        assert (await AuditLog(clock).verify(session)).ok


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_caller_who_gives_up_does_not_take_its_row_back(db: Database, clock: FixedClock) -> None:
    rows = GroupCommitAudit(db, AuditLog(clock))
    task = asyncio.create_task(rows.record(_row(1)))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await rows.close()
    assert await _count(db) == 1
