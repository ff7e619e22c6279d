"""The patient's relative, joined with a one-time code, reads the signed note once staff share it."""

from __future__ import annotations

import re
from datetime import timedelta

from aiohttp.test_utils import TestClient

from rooms.appkeys import JOIN_CODES
from rooms.roster import ParticipantRole
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import api_headers, csrf_token, login_as
from tests.http.notes_documents import WHAT_MATTERS, created_note, note_document, seeded_booking


async def test_guest_reads_the_shared_signed_note_only(client: TestClient, seeded: Seeded, clock: FixedClock,
                                                        db: Database) -> None:
    booking = await seeded_booking(db)
    token = await login_as(client, "lege", clock)
    note = await created_note(client, booking, token)
    url = note["links"]["self"]
    resp = await client.put(url, json={"based_on": 1, "content": note_document(what_matters=WHAT_MATTERS)},
                            headers=api_headers(token))
    assert resp.status == 200
    bookings = await (await client.get("/api/day-list", params={"date": "2026-11-24"})).json()
    start = next(b for b in bookings if b["id"] == booking)["start"]
    await client.post("/logout", data={"csrf_token": token})

    from datetime import datetime

    starts_at = datetime.fromisoformat(start)
    issued = await client.app[JOIN_CODES].issue(
        room_id=booking, role=ParticipantRole.RELATIVE, display_name="Kari Nordmann", starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30), created_by="user:1")
    clock.current = starts_at - timedelta(minutes=5)
    guest_token = await csrf_token(client, f"/join?room={booking}")
    resp = await client.post("/join", data={"csrf_token": guest_token, "room": booking, "code": issued.code},
                             allow_redirects=False)
    assert resp.status == 303, await resp.text()
    # Not signed, not shared: nothing to see (and no hint of what exists).
    resp = await client.get(f"/consultations/{booking}/summary")
    assert resp.status == 404

    client.session.cookie_jar.clear()
    token = await login_as(client, "lege", clock)
    resp = await client.post(f"{url}/sign", json={}, headers=api_headers(token))
    assert resp.status == 200, await resp.text()
    resp = await client.post(f"{url}/share", json={"shared": True}, headers=api_headers(token))
    assert resp.status == 200, await resp.text()
    client.session.cookie_jar.clear()

    guest_token = await csrf_token(client, f"/join?room={booking}")
    issued = await client.app[JOIN_CODES].issue(
        room_id=booking, role=ParticipantRole.RELATIVE, display_name="Kari Nordmann", starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30), created_by="user:1")
    await client.post("/join", data={"csrf_token": guest_token, "room": booking, "code": issued.code})
    resp = await client.get(f"/consultations/{booking}/summary")
    page = await resp.text()
    assert resp.status == 200, page
    assert WHAT_MATTERS["own_words"] in page and "export.pdf" not in page


async def test_note_page_offers_a_follow_up_for_the_same_patient(client: TestClient, seeded: Seeded,
                                                                 clock: FixedClock, db: Database) -> None:
    booking = await seeded_booking(db)
    await login_as(client, "lege", clock)
    page = await (await client.get(f"/consultations/{booking}/note")).text()
    link = re.search(r'href="(/referrals/new\?patient=[^"]+)"', page)
    assert link, page
    form = await (await client.get(link.group(1).replace("&amp;", "&"))).text()
    patient = link.group(1).split("=", 1)[1]
    assert f'<option value="{patient}" selected' in form
