"""Finding 11: a GET changes nothing; opening a consultation's note does not create it.

Before, the first ``GET /consultations/<id>/note`` (or the note API, or the call page beside the video)
wrote a note, an empty version and two audit rows: a link followed by a browser's prefetch, or a staff
member only looking, created a note in their name. Now every GET of a note nobody has saved yet answers an
empty note (id null, version 0) and writes exactly one row: the audited read of patient data. The first
save creates the note, and the editors of a consultation meet on its live channel before that.
"""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from notes.models import NoteRow, NoteVersionRow
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import api_headers, login_as
from tests.http.notes_documents import WHAT_MATTERS, note_document, seeded_booking

ORIGIN = {"Origin": "http://127.0.0.1"}


async def _counts(db: Database) -> tuple[int, int]:
    async with db.session() as session:
        notes = await session.scalar(select(func.count()).select_from(NoteRow))
        versions = await session.scalar(select(func.count()).select_from(NoteVersionRow))
    return notes or 0, versions or 0


async def _audit_since(db: Database, seq: int) -> list[tuple[str, str, str]]:
    async with db.session() as session:
        rows = (await session.execute(select(AuditEntry).where(AuditEntry.seq > seq)
                                      .order_by(AuditEntry.seq))).scalars().all()
    return [(r.action, r.object_type, r.object_id) for r in rows]


async def _last_seq(db: Database) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.max(AuditEntry.seq))) or 0


async def test_opening_a_note_nobody_wrote_stores_nothing_but_the_read(client: TestClient, seeded: Seeded,
                                                                       clock: FixedClock, db: Database) -> None:
    booking = await seeded_booking(db)
    token = await login_as(client, "lege", clock)
    assert await _counts(db) == (0, 0)

    for path in (f"/api/bookings/{booking}/note", f"/consultations/{booking}/note", f"/consultations/{booking}"):
        for _ in range(2):  # opened again: still nothing
            before = await _last_seq(db)
            resp = await client.get(path, allow_redirects=False)
            assert resp.status == 200, (path, await resp.text())
            # Patient data was read, so the read is logged: one row, and no "create" row.
            reads = [row for row in await _audit_since(db, before) if row[1] == "note"]
            assert reads == [("read", "note", booking)], (path, reads)
            assert await _counts(db) == (0, 0), path

    note = await (await client.get(f"/api/bookings/{booking}/note")).json()
    assert note["id"] is None and note["version"] == 0 and note["content"]["what_matters"] is None
    assert note["links"]["self"] == f"/api/bookings/{booking}/note" and note["links"]["pdf"] is None

    # The live channel is open before the note exists, and opening it stores nothing either.
    ws = await client.ws_connect(f"/ws/consultations/{booking}/note?csrf={token}", headers=ORIGIN)
    await ws.close()
    assert await _counts(db) == (0, 0)

    # The first save creates the note: its row, the empty version 1 every note starts from, and the save.
    before = await _last_seq(db)
    resp = await client.put(f"/api/bookings/{booking}/note", headers=api_headers(token),
                            json={"based_on": note["version"], "content": note_document(what_matters=WHAT_MATTERS)})
    assert resp.status == 200, await resp.text()
    saved = (await resp.json())["note"]
    assert saved["id"] and saved["version"] == 2 and saved["content"]["what_matters"] == WHAT_MATTERS
    assert await _counts(db) == (1, 2)
    assert [a for a, t, _ in await _audit_since(db, before) if t == "note"] == ["create", "save"]

    # From then on a GET reads the note that exists, and still writes only its read.
    before = await _last_seq(db)
    again = await (await client.get(f"/api/bookings/{booking}/note")).json()
    assert again["id"] == saved["id"] and again["version"] == 2
    assert await _audit_since(db, before) == [("read", "note", saved["id"])]
    assert await _counts(db) == (1, 2)


async def test_someone_who_may_only_read_cannot_create_it(client: TestClient, seeded: Seeded, clock: FixedClock,
                                                          db: Database) -> None:
    """The coordinator may read the note (with a reason) but not write it: reading and a refused save store
    no note."""
    booking = await seeded_booking(db)
    token = await login_as(client, "koordinator", clock)
    resp = await client.get(f"/api/bookings/{booking}/note", params={"reason": "Arkivering"})
    assert resp.status == 200 and (await resp.json())["permissions"] == ["export", "read"]
    resp = await client.put(f"/api/bookings/{booking}/note?reason=Arkivering", headers=api_headers(token),
                            json={"based_on": 0, "content": note_document(what_matters=WHAT_MATTERS)})
    assert resp.status == 403
    assert await _counts(db) == (0, 0)
