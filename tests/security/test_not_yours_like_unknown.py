"""Finding 9: a consultation that is not yours is answered exactly like one that does not exist.

Before, three places told them apart: the note of a booking ("no such note" for someone else's, "no such
consultation" for an unknown id), the call page and the call's socket (403 for someone else's, 404 for an
unknown id). So staff could find out which consultation ids exist by asking. Now a logged-in staff member
who is not in the consultation gets the very answer an unknown id gets: status, content type, problem
type, title, detail and body, byte for byte once the id asked for is blanked out. Each refusal still
leaves its ``refused`` row in the audit log.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import api_headers, login_as
from tests.http.notes_documents import note_document, seeded_booking

OUTSIDER = "sykepleier.luroy"  # staff of Lurøy: neither in Marit's consultation nor her municipality's nurse
UNKNOWN = "ingen-slik-konsultasjon-0000"  # the shape of a room id, of no booking at all
ORIGIN = {"Origin": "http://127.0.0.1"}
# Headers that differ by the moment of asking, not by the id.
_MOMENTARY = {"date"}


async def _answer(client: TestClient, method: str, path: str, booking: str, **kwargs: object
                  ) -> tuple[int, str, dict[str, str]]:
    """What a client can tell from an answer, with the id it asked for blanked out (pages may echo the path)."""
    resp = await client.request(method, path.format(booking), allow_redirects=False, **kwargs)  # type: ignore[arg-type]
    body = (await resp.text()).replace(booking, "…")
    headers = {k.lower(): v for k, v in resp.headers.items() if k.lower() not in _MOMENTARY}
    if "content-length" in headers:  # the blanked id is the only difference in length
        headers["content-length"] = str(len(body.encode()))
    return resp.status, body, headers


async def _refusals(db: Database) -> list[AuditEntry]:
    async with db.session() as session:
        return list((await session.execute(select(AuditEntry).where(AuditEntry.action == "refused")
                                           .order_by(AuditEntry.seq))).scalars())


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/bookings/{}/note"),
    ("PUT", "/api/bookings/{}/note"),
    ("GET", "/consultations/{}/note"),
    ("GET", "/consultations/{}"),
    ("GET", "/ws?room={}"),  # the call's socket, asked without an upgrade: the check comes before it
    ("GET", "/ws/consultations/{}/note"),
])
async def test_someone_elses_consultation_is_answered_like_an_unknown_one(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database, method: str, path: str) -> None:
    booking = await seeded_booking(db)
    token = await login_as(client, OUTSIDER, clock)
    kwargs: dict[str, object] = {"headers": {**api_headers(token), **ORIGIN}}
    if method == "PUT":
        kwargs["json"] = {"based_on": 0, "content": note_document()}
    if path.startswith("/ws/consultations/"):
        path += f"?csrf={token}"
    theirs = await _answer(client, method, path, booking, **kwargs)
    clock.advance(timedelta(seconds=61))  # one refusal row a minute per person: let each write its own
    unknown = await _answer(client, method, path, UNKNOWN, **kwargs)
    assert theirs[0] == 404, theirs
    assert theirs == unknown
    if path.startswith("/api/"):
        assert theirs[2]["content-type"].startswith("application/problem+json")
        assert '"detail": "no such note"' in theirs[1] and '"type": "https://samkonsult.no/problems/not_found"' in \
            theirs[1]
    # Both refusals are in the audit log, each with the path asked for.
    rows = await _refusals(db)
    assert [row.reason for row in rows] == [f"{method} {p.split('?')[0]}" for p in
                                            (path.format(booking), path.format(UNKNOWN))]
    assert all(row.actor_name == "Ola Johansen" and row.object_type == "request" for row in rows)


async def test_the_call_socket_refuses_both_alike(client: TestClient, seeded: Seeded, clock: FixedClock,
                                                  db: Database) -> None:
    """The WebSocket handshake itself: the same 404 for someone else's room and for no room at all."""
    booking = await seeded_booking(db)
    token = await login_as(client, OUTSIDER, clock)
    statuses = []
    for room in (booking, UNKNOWN):
        for url in (f"/ws?room={room}", f"/ws/consultations/{room}/note?csrf={token}"):
            with pytest.raises(WSServerHandshakeError) as refused:
                await client.ws_connect(url, headers=ORIGIN)
            statuses.append(refused.value.status)
    assert statuses == [404, 404, 404, 404]


async def test_a_participant_still_gets_in(client: TestClient, seeded: Seeded, clock: FixedClock,
                                           db: Database) -> None:
    """The refusals are for outsiders only: the consultation's own nurse reaches all of it."""
    booking = await seeded_booking(db)
    token = await login_as(client, "sykepleier.rodoy", clock)
    for path in (f"/api/bookings/{booking}/note", f"/consultations/{booking}/note", f"/consultations/{booking}"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 200, (path, await resp.text())
    ws = await client.ws_connect(f"/ws/consultations/{booking}/note?csrf={token}", headers=ORIGIN)
    await ws.close()
    assert await _refusals(db) == []
