"""Who looked, over HTTP: the patient's guest session sees it beside the summary, a relative's does not,
staff print it for the patient, and every reading is audited."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from rooms.appkeys import JOIN_CODES
from rooms.roster import ParticipantRole
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import api_headers, csrf_token, login_as
from tests.http.notes_documents import WHAT_MATTERS, created_note, note_document, seeded_booking

SECTION = "Hvem har sett opplysningene dine"
RAW_CODES = ("day list", "patient list", "shared summary", "consultation participant", "read_shared", "user:",
             "code:", "access_log")


async def _signed_and_shared(client: TestClient, clock: FixedClock, db: Database) -> tuple[str, datetime]:
    """The seeded consultation, its note written, signed and shared by the specialist; staff logged out."""
    booking = await seeded_booking(db)
    token = await login_as(client, "lege", clock)
    await client.get("/patients")  # Marit's name seen in the patient list: a "pasientliste" line
    note = await created_note(client, booking, token)
    url = note["links"]["self"]
    resp = await client.put(url, json={"based_on": 1, "content": note_document(what_matters=WHAT_MATTERS)},
                            headers=api_headers(token))
    assert resp.status == 200, await resp.text()
    for step, body in (("sign", {}), ("share", {"shared": True})):
        resp = await client.post(f"{url}/{step}", json=body, headers=api_headers(token))
        assert resp.status == 200, await resp.text()
    bookings = await (await client.get("/api/day-list", params={"date": "2026-11-24"})).json()
    start = datetime.fromisoformat(next(b for b in bookings if b["id"] == booking)["start"])
    client.session.cookie_jar.clear()
    return booking, start


async def _join_as(client: TestClient, clock: FixedClock, booking: str, start: datetime, role: ParticipantRole,
                   name: str) -> None:
    client.session.cookie_jar.clear()
    issued = await client.app[JOIN_CODES].issue(
        room_id=booking, role=role, display_name=name, starts_at=start, ends_at=start + timedelta(minutes=30),
        created_by="user:1")
    clock.current = start - timedelta(minutes=5)
    token = await csrf_token(client, "/join")
    resp = await client.post("/join", data={"csrf_token": token, "code": issued.code}, allow_redirects=False)
    assert resp.status == 303, await resp.text()


async def _access_log_rows(db: Database) -> list[AuditEntry]:
    async with db.session() as session:
        return list((await session.execute(
            select(AuditEntry).where(AuditEntry.object_type == "access_log").order_by(AuditEntry.seq))).scalars())


async def test_patient_sees_who_looked_beside_the_summary_and_on_a_page_of_their_own(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    booking, start = await _signed_and_shared(client, clock, db)
    await _join_as(client, clock, booking, start, ParticipantRole.PATIENT, "Marit Eriksen")

    resp = await client.get(f"/consultations/{booking}/summary")
    page = await resp.text()
    assert resp.status == 200, page
    assert WHAT_MATTERS["own_words"] in page and SECTION in page
    section = page[page.index(SECTION):]
    for expected in ("Ingrid Hansen", "lege", "Helgelandssykehuset Mo i Rana", "Samkonsultasjonsnotat",
                     "Pasientliste", "kl. "):
        assert expected in section, expected
    assert not [code for code in RAW_CODES if code in section], section
    assert f'href="/consultations/{booking}/access-log"' in section

    resp = await client.get(f"/consultations/{booking}/access-log")
    full = await resp.text()
    assert resp.status == 200, full
    assert "Ingrid Hansen" in full and "Dagsliste" in full and "Pasientliste" in full
    assert not [code for code in RAW_CODES if code in full.split("<main", 1)[1]]
    assert "Marit Eriksen" not in full.split("<main", 1)[1]  # her own visits are not listed
    resp = await client.get(f"/consultations/{booking}/access-log", params={"months": "1"})
    assert resp.status == 200 and 'value="1" selected' in await resp.text()
    resp = await client.get(f"/consultations/{booking}/access-log", params={"months": "7"})
    assert resp.status == 422 and "Velg en av periodene i listen" in await resp.text()

    rows = await _access_log_rows(db)
    assert len(rows) == 4  # the summary section, the page, and the two pages with another period chosen
    assert {(r.actor_kind, r.role, r.actor_name, r.reason) for r in rows} == {
        ("guest", "patient", "Marit Eriksen", "patient's own access log")}


async def test_a_relative_sees_the_summary_but_not_who_looked(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    booking, start = await _signed_and_shared(client, clock, db)
    for role, name in ((ParticipantRole.RELATIVE, "Kari Nordmann"), (ParticipantRole.INTERPRETER, "Ali Tolk")):
        await _join_as(client, clock, booking, start, role, name)
        resp = await client.get(f"/consultations/{booking}/summary")
        page = await resp.text()
        assert resp.status == 200, page
        assert WHAT_MATTERS["own_words"] in page and SECTION not in page and "access-log" not in page
        resp = await client.get(f"/consultations/{booking}/access-log")
        assert resp.status == 404
    assert await _access_log_rows(db) == []


async def test_the_access_log_needs_a_guest_session_of_this_consultation(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    booking = await seeded_booking(db)
    resp = await client.get(f"/consultations/{booking}/access-log", allow_redirects=False)
    assert resp.status in {401, 303}
    await login_as(client, "lege", clock)  # staff have the patient page for this, not the guest page
    resp = await client.get(f"/consultations/{booking}/access-log")
    assert resp.status == 404


async def test_staff_print_the_report_for_a_patient_who_asks(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    marit = seeded.patients["Marit"]
    await login_as(client, "sykepleier.rodoy", clock)
    resp = await client.get(f"/patients/{marit}/access-log", params={"reason": "Pågående behandling"})
    staff_page = await resp.text()
    assert resp.status == 200, staff_page
    link = re.search(r'href="(/patients/[^"]+/access-report\?months=12)"', staff_page)
    assert link, staff_page
    assert "Demonstrasjonsdata" in staff_page and "demo data" not in staff_page

    resp = await client.get(link.group(1))
    page = await resp.text()
    assert resp.status == 200, page
    assert "Marit Eriksen" in page and "218651 *****" in page and "data-print" in page and "Skriv ut" in page
    assert "/static/print.js" in page and "access_report.css" in page
    assert "Innsynsbegjæring fra pasienten" in page  # the print itself is the newest line
    async with db.session() as session:
        nin = (await session.execute(select(AuditEntry.patient_id).where(AuditEntry.object_type == "access_log")))
        assert len(nin.all()) == 2
    rows = await _access_log_rows(db)
    assert [(r.actor_name, r.action, r.reason) for r in rows] == [
        ("Kari Nilsen", "read", "Pågående behandling"), ("Kari Nilsen", "print", "access request from the patient")]

    client.session.cookie_jar.clear()
    await login_as(client, "sykepleier.luroy", clock)  # Lurøy has no care relation to Marit
    assert (await client.get(f"/patients/{marit}/access-report")).status == 404
    client.session.cookie_jar.clear()
    await login_as(client, "leder", clock)
    assert (await client.get(f"/patients/{marit}/access-report")).status == 403
    assert len(await _access_log_rows(db)) == 2
