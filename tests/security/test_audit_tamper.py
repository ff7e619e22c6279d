"""Finding 5: someone who can write the database can no longer rewrite the audit log unnoticed.

Each attack is done with plain SQL on a real database (SQLite file and PostgreSQL), as someone with the
database's password but without the audit key would, and ``samkonsult audit verify`` runs as a separate
process with the server's settings, the way an operator runs it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import delete, select, text, update

from server.migrate import upgrade
from server.platform.actors import Actor
from server.platform.appkeys import AUDIT
from server.platform.audit import GENESIS, AuditLog, audit_key_bytes
from server.platform.audit_models import AuditEntry, AuditHead
from server.platform.clock import FixedClock
from server.platform.db import Database, create_engine
from tests.conftest import Seeded
from tests.helpers import login_as
from tests.serverproc import run_cli, running_server

AUDIT_KEY = "audit-key-for-the-tamper-tests-0123456789"
ROWS = 120
ACTOR = Actor(kind="staff", id="user:1", name="Kari Nilsen", role="nurse", organisation_id=2,
              organisation_name="Rødøy kommune", user_id=1)
_HASHED = ("seq", "at", "actor_kind", "actor_id", "actor_name", "role", "organisation", "patient_id",
           "object_type", "object_id", "action", "reason")


@pytest.fixture
def checkpoint_file(tmp_path: Path) -> Path:
    return tmp_path / "audit-checkpoints.jsonl"


@pytest.fixture
def cli_env(database_url: str, checkpoint_file: Path) -> dict[str, str]:
    """The settings of a production server: its own secrets, demo mode off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMKONSULT_")}
    env.update({
        "SAMKONSULT_DATABASE_URL": database_url,
        "SAMKONSULT_SESSION_SECRET": "session-secret-for-the-tamper-tests",
        "SAMKONSULT_TOTP_ENCRYPTION_KEY": "totp-key-for-the-tamper-tests-0123",
        "SAMKONSULT_AUDIT_KEY": AUDIT_KEY,
        "SAMKONSULT_AUDIT_CHECKPOINT_FILE": str(checkpoint_file),
    })
    return env


async def _cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "server.cli", *args, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode if proc.returncode is not None else -1, (out + err).decode()


async def _verify(env: dict[str, str]) -> tuple[int, str]:
    return await _cli(env, "audit", "verify")


@pytest.fixture
async def chain(db: Database, clock: FixedClock, cli_env: dict[str, str]) -> None:
    """ROWS rows written by the server's keyed log, and a checkpoint of the head written by the CLI."""
    audit = AuditLog(clock, audit_key_bytes(AUDIT_KEY))
    for i in range(ROWS):
        async with db.session() as session:
            await audit.record(session, ACTOR, action="read", object_type="patient", object_id=f"p{i}",
                               patient_id=7, reason="Planlagt samkonsultasjon")
    code, output = await _cli(cli_env, "audit", "checkpoint")
    assert code == 0 and f"{ROWS} rows" in output, output


def _attacker_hash(prev_hash: str, entry: AuditEntry) -> str:
    """The row hash as the code before the key computed it: what anyone can redo without the key."""
    fields = {name: getattr(entry, name) for name in _HASHED}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=datetime.isoformat)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


async def _rehash_from(db: Database, first: int) -> None:
    """Recompute every hash from row ``first`` on with SHA-256 and point the head at the new tip."""
    async with db.session() as session:
        rows = (await session.execute(select(AuditEntry).where(AuditEntry.seq >= first)
                                      .order_by(AuditEntry.seq))).scalars().all()
        before = await session.get(AuditEntry, first - 1)
        prev = before.hash if before is not None else GENESIS
        for entry in rows:
            entry.prev_hash = prev
            entry.hash = _attacker_hash(prev, entry)
            prev = entry.hash
        await session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=prev))


def _lower_the_checkpoint(path: Path, seq: int, head_hash: str) -> None:
    """Rewrite the one checkpoint line to show a shorter log, keeping its (now wrong) signature."""
    line = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**line, "seq": seq, "hash": head_hash}) + "\n", encoding="utf-8")


def _line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


async def test_an_untouched_log_verifies(chain: None, cli_env: dict[str, str]) -> None:
    code, output = await _verify(cli_env)
    assert code == 0, output
    assert f"audit log intact: {ROWS} rows" in output and "1 checkpoints" in output


async def test_a_changed_row_with_recomputed_hashes_is_found(chain: None, db: Database,
                                                             cli_env: dict[str, str]) -> None:
    async with db.session() as session:
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 50).values(actor_name="Someone Else"))
    await _rehash_from(db, 50)
    code, output = await _verify(cli_env)
    assert code == 1 and "AUDIT LOG BROKEN: row 50 was changed" in output, output


async def test_passing_the_forgery_off_as_rows_from_before_the_key_is_found(
        chain: None, db: Database, cli_env: dict[str, str]) -> None:
    """Moving the unkeyed-rows marker past the forged rows would make them pass as old SHA-256 rows."""
    async with db.session() as session:
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 50).values(actor_name="Someone Else"))
    await _rehash_from(db, 1)
    async with db.session() as session:
        await session.execute(update(AuditHead).where(AuditHead.id == 1).values(keyed_from=ROWS + 1))
    # Without the checkpoints the forgery would pass: the attacker's SHA-256 chain is a faithful one.
    code, output = await _verify({**cli_env, "SAMKONSULT_AUDIT_CHECKPOINT_FILE": cli_env[
        "SAMKONSULT_AUDIT_CHECKPOINT_FILE"] + ".absent"})
    assert code == 0 and f"{ROWS} rows ({ROWS} from before the audit key" in output, output
    code, output = await _verify(cli_env)
    assert code == 1 and "marker of rows from before the audit key was moved" in output, output


async def test_a_cut_tail_with_the_head_moved_back_is_found(chain: None, db: Database,
                                                            cli_env: dict[str, str]) -> None:
    async with db.session() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq > 100))
        last = await session.get(AuditEntry, 100)
        assert last is not None
        await session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_seq=100,
                                                                                 last_hash=last.hash))
    # The chain itself adds up: without the checkpoint the cut would not show.
    code, output = await _verify({**cli_env, "SAMKONSULT_AUDIT_CHECKPOINT_FILE": cli_env[
        "SAMKONSULT_AUDIT_CHECKPOINT_FILE"] + ".absent"})
    assert code == 0 and "intact: 100 rows" in output, output
    code, output = await _verify(cli_env)
    assert code == 1 and f"saw {ROWS} rows, the database has 100" in output, output


async def test_a_deleted_log_is_found(chain: None, db: Database, cli_env: dict[str, str]) -> None:
    async with db.session() as session:
        await session.execute(delete(AuditEntry))
        await session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_seq=0, last_hash=GENESIS))
    code, output = await _verify(cli_env)
    assert code == 1 and f"saw {ROWS} rows, the database has 0" in output, output


async def test_an_edited_checkpoint_file_is_found(chain: None, db: Database, cli_env: dict[str, str],
                                                  checkpoint_file: Path) -> None:
    """Lowering the checkpoint to match a cut log needs the key too."""
    async with db.session() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq > 100))
        last = await session.get(AuditEntry, 100)
        assert last is not None
        await session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_seq=100,
                                                                                 last_hash=last.hash))
    _lower_the_checkpoint(checkpoint_file, 100, last.hash)
    code, output = await _verify(cli_env)
    assert code == 1 and "checkpoint file was altered (line 1)" in output, output


async def test_a_new_checkpoint_is_written_only_when_the_log_grew(chain: None, db: Database, clock: FixedClock,
                                                                  cli_env: dict[str, str],
                                                                  checkpoint_file: Path) -> None:
    code, output = await _cli(cli_env, "audit", "checkpoint")
    assert code == 0 and "already shows this head" in output
    async with db.session() as session:
        await AuditLog(clock, audit_key_bytes(AUDIT_KEY)).record(session, ACTOR, action="read",
                                                                 object_type="patient", object_id="p",
                                                                 patient_id=7)
    code, output = await _cli(cli_env, "audit", "checkpoint")
    assert code == 0 and f"{ROWS + 1} rows" in output
    assert _line_count(checkpoint_file) == 2
    code, output = await _verify(cli_env)
    assert code == 0 and "2 checkpoints" in output, output


async def test_a_log_written_with_another_key_is_found(chain: None, cli_env: dict[str, str], tmp_path: Path) -> None:
    """The key is what makes the chain: a copy of the database checked with another key fails."""
    code, output = await _verify({**cli_env, "SAMKONSULT_AUDIT_KEY": "another-key-0123456789abcdef",
                                  "SAMKONSULT_AUDIT_CHECKPOINT_FILE": str(tmp_path / "other.jsonl")})
    assert code == 1 and "row 1 was changed" in output, output


async def _refusals(db: Database) -> list[AuditEntry]:
    async with db.session() as session:
        return list((await session.execute(select(AuditEntry).where(AuditEntry.action == "refused")
                                           .order_by(AuditEntry.seq))).scalars())


async def test_a_refused_access_leaves_a_row_and_a_flood_of_them_does_not(
        client: TestClient, seeded: Seeded, db: Database, clock: FixedClock) -> None:
    """The finding's last point: refusals are logged, at most one row per person a minute."""
    await login_as(client, "sykepleier.luroy", clock)
    astrid = seeded.patients["Astrid"]  # lives in Rødøy: not this Lurøy nurse's patient
    resp = await client.get(f"/api/patients/{astrid}", params={"reason": "Henvisning"})
    assert resp.status == 404
    rows = await _refusals(db)
    assert len(rows) == 1
    assert (rows[0].actor_name, rows[0].object_type, rows[0].object_id) == (
        "Ola Johansen", "request", "/api/patients/{public_id}")
    assert rows[0].reason == f"GET /api/patients/{astrid}"
    # The admin pages are not a nurse's: 403. Within the minute, counted but not written.
    for _ in range(20):
        resp = await client.get("/admin/audit", allow_redirects=False)
        assert resp.status == 403
    assert len(await _refusals(db)) == 1
    clock.advance(timedelta(seconds=61))
    resp = await client.get("/admin/audit", allow_redirects=False)
    assert resp.status == 403
    rows = await _refusals(db)
    assert len(rows) == 2
    assert rows[1].object_id == "/admin/audit"
    assert rows[1].reason == "GET /admin/audit (+20 refused since the previous row)"
    # The page and API answers are unchanged, and the chain still holds.
    async with db.session() as session:
        assert (await client.app[AUDIT].verify(session)).ok


async def test_a_bad_csrf_token_is_no_refused_access(client: TestClient, seeded: Seeded, db: Database,
                                                     clock: FixedClock) -> None:
    """A form without its token says nothing about data: no row (a stale tab would flood the log)."""
    await login_as(client, "sykepleier.luroy", clock)
    resp = await client.post("/api/patients", json={}, allow_redirects=False)
    assert resp.status == 403
    assert await _refusals(db) == []


def test_the_server_writes_checkpoints_at_start_and_at_shutdown(tmp_path: Path) -> None:
    """The background job: one checkpoint of the head when serving starts, one more when it stops."""
    with running_server(tmp_path, seed=False) as server:
        checkpoints = Path(server.env["SAMKONSULT_AUDIT_CHECKPOINT_FILE"])
        deadline = time.monotonic() + 60  # a safety net; the job's first round runs at start-up
        while not checkpoints.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _line_count(checkpoints) == 1
        # Another process adds an audited row while the server runs.
        run_cli(server.env, "create-org", "Testkommune", "--kind", "municipality")
    # Stopped (SIGTERM): the rows written since the last round are covered by the shutdown checkpoint.
    assert _line_count(checkpoints) == 2
    done = subprocess.run([sys.executable, "-m", "server.cli", "audit", "verify"], env=server.env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "audit log intact: 1 rows" in done.stdout and "2 checkpoints" in done.stdout


async def test_an_upgraded_installation_keeps_a_verifiable_chain(tmp_path: Path, clock: FixedClock) -> None:
    """Rows from before the key keep their SHA-256 hashes; the migration marks where the keyed rows start."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade(url, "0011_benefit_settings")
    old = Database(create_engine(url))
    try:
        async with old.session() as session:  # three rows as the version before the key wrote them
            prev = GENESIS
            for seq in range(1, 4):
                entry = AuditEntry(seq=seq, at=clock.now(), actor_kind="staff", actor_id="user:1",
                                   actor_name="Kari Nilsen", role="nurse", organisation="Rødøy kommune",
                                   patient_id=7, object_type="patient", object_id=f"p{seq}", action="read",
                                   reason="", prev_hash=prev, hash="")
                entry.hash = _attacker_hash(prev, entry)
                prev = entry.hash
                session.add(entry)
            await session.execute(text("UPDATE audit_head SET last_seq = 3, last_hash = :h WHERE id = 1"),
                                  {"h": prev})
    finally:
        await old.close()
    await upgrade(url)
    db = Database(create_engine(url))
    try:
        audit = AuditLog(clock, audit_key_bytes(AUDIT_KEY))
        async with db.session() as session:
            await audit.record(session, ACTOR, action="read", object_type="patient", object_id="p4", patient_id=7)
        async with db.session() as session:
            head = await session.get(AuditHead, 1)
            assert head is not None and head.keyed_from == 4
            result = await audit.verify(session)
        assert result.ok and result.checked == 4 and result.legacy == 3
        async with db.session() as session:  # the keyed row cannot be recomputed without the key
            await session.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(object_id="p9"))
        await _rehash_from(db, 4)
        async with db.session() as session:
            result = await audit.verify(session)
        assert not result.ok and result.seq == 4 and result.code == "changed"
    finally:
        await db.close()
