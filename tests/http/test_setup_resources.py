"""Setting a trust up in the pages and the API: health rooms with equipment, equipment items, staff made
bookable, consultation types (a changed notice is honoured by the slot search), and the room import
that refuses a bad file and changes nothing."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from scheduling.models import Resource, ResourceKind
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import api_headers, login_as


async def _room_count(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count(Resource.id)).where(
            Resource.kind == ResourceKind.HEALTH_ROOM))).scalar_one())


async def test_health_room_form_keeps_what_was_typed_and_creates_the_room(
        client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    token = await login_as(client, "admin", clock)
    form = {"csrf_token": token, "name": "Helserom Træna", "municipality_id": "", "address": "Husøy 1",
            "email": "ikke-en-adresse", "equipment": ["room_camera", "ecg"], "day0": "08:00-12:00, 11:00-15:00"}
    resp = await client.post("/resources/new/room", data=form, allow_redirects=False)
    page = await resp.text()
    assert resp.status == 422
    assert "Velg en kommune fra listen." in page and "Skriv en gyldig e-postadresse." in page
    assert "To tidsrom samme dag overlapper." in page
    assert 'value="Helserom Træna"' in page and 'value="Husøy 1"' in page and 'value="ikke-en-adresse"' in page
    assert re.search(r'value="ecg" checked', page) and "08:00-12:00, 11:00-15:00" in page
    form.update(municipality_id=str(seeded.organisations["Rødøy kommune"]), email="helserom.traena@example.no",
                day0="08:00-15:30")
    resp = await client.post("/resources/new/room", data=form, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    page = await (await client.get(resp.headers["Location"])).text()
    assert "Helserom Træna" in page and "Romkamera" in page and "EKG" in page.upper()
    assert 'value="08:00-15:30"' in page


async def test_make_the_nurse_bookable_again_and_keep_history(client: TestClient, seeded: Seeded,
                                                             clock: FixedClock, db: Database) -> None:
    token = await login_as(client, "admin", clock)
    async with db.session() as session:
        kari = (await session.execute(select(Resource).where(Resource.name == "Kari Nilsen"))).scalar_one()
    # Out of use: she is offered again to be made bookable, and her resource (and bookings) stay.
    resp = await client.post(f"/resources/{kari.id}/active", data={"csrf_token": token, "active": "0"},
                             allow_redirects=False)
    assert resp.status == 303
    page = await (await client.get("/resources/new/person")).text()
    option = re.search(r'<option value="(\d+)">Kari Nilsen', page)
    assert option, page
    resp = await client.post("/resources/new/person", data={
        "csrf_token": token, "user_id": option.group(1), "day0": "9-15"}, allow_redirects=False)
    page = await resp.text()
    assert resp.status == 422 and "Skriv tider som 08:00-15:30." in page and 'value="9-15"' in page
    resp = await client.post("/resources/new/person", data={
        "csrf_token": token, "user_id": option.group(1), "day2": "09:00-14:00"}, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    assert resp.headers["Location"].startswith(f"/resources/{kari.id}?")
    again = await client.post("/api/bookable-staff", json={"user_id": int(option.group(1)), "hours": [
        {"weekday": 0, "start": "08:00", "end": "15:00"}]}, headers=api_headers(token))
    problem = await again.json()
    assert again.status == 422 and problem["errors"][0]["message"] == "Denne personen kan allerede bookes."


async def test_notice_change_is_honoured_by_the_slot_search(client: TestClient, seeded: Seeded,
                                                           clock: FixedClock) -> None:
    headers = api_headers(await login_as(client, "koordinator", clock))
    types = {t["code"]: t for t in await (await client.get("/api/consultation-types")).json()}
    short = types["short_follow_up"]
    assert short["min_notice_minutes"] == 60

    async def first_slot() -> str:
        slots = await (await client.get("/api/slots", params={
            "consultation_type_id": str(short["id"]), "from": "2026-11-23", "to": "2026-11-24"})).json()
        return str(slots[0]["start"])

    before = await first_slot()
    body = {"name": short["name"], "name_en": short["name_en"], "duration_minutes": 15, "min_notice_minutes": 10,
            "buffer_before_minutes": 0, "buffer_after_minutes": 5,
            "requirements": [{k: v for k, v in r.items() if v not in (None, [])} for r in short["requirements"]]}
    resp = await client.put(f"/api/consultation-types/{short['id']}", json={**body, "duration_minutes": 2},
                            headers=headers)
    problem = await resp.json()
    assert resp.status == 422 and problem["errors"] == [{
        "field": "duration_minutes", "code": "duration_range",
        "message": "Varigheten må være mellom 5 og 480 minutter."}]
    resp = await client.put(f"/api/consultation-types/{short['id']}", json=body, headers=headers)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["min_notice_minutes"] == 10
    assert await first_slot() < before


async def test_consultation_type_form_creates_a_type_the_slot_finder_offers(
        client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    token = await login_as(client, "leder", clock)  # the team leader decides how consultations run
    page = await (await client.get("/consultation-types/new")).text()
    department = re.search(r'<option value="(\d+)">Geriatri', page)
    assert department, page
    form = {"csrf_token": token, "name": "Rask sjekk", "name_en": "", "duration_minutes": "15",
            "min_notice_minutes": "ti", "buffer_before_minutes": "0", "buffer_after_minutes": "0",
            "need_specialist": "1", "department_id": department.group(1), "need_room": "1",
            "equipment": ["room_camera"]}
    resp = await client.post("/consultation-types/new", data=form, allow_redirects=False)
    page = await resp.text()
    assert resp.status == 422 and "Skriv et helt antall minutter, for eksempel 15." in page
    assert 'value="Rask sjekk"' in page and 'value="ti"' in page
    form.update(name_en="Quick check", min_notice_minutes="10")
    resp = await client.post("/consultation-types/new", data=form, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    assert "Rask sjekk" in await (await client.get("/consultation-types")).text()


ROOMS_CSV = ("navn;kommune;adresse;epost;utstyr;åpningstider\n"
             "Helserom Sleneset;Lurøy;Sleneset 2;helserom.sleneset@example.no;Romkamera|Undersøkelseskamera;"
             "08:00-15:30\n"
             "Helserom Myken;Rødøy kommune;;;Romkamera;08:00-11:00 12:00-15:00\n")


async def test_room_import_refuses_a_bad_file_and_changes_nothing(client: TestClient, seeded: Seeded,
                                                                  clock: FixedClock, db: Database) -> None:
    token = await login_as(client, "admin", clock)
    rooms = await _room_count(db)
    bad = ROOMS_CSV + "Helserom Myken;Rødøy;;post@;Laserkanon;8-16\n;Atlantis;;;;\n"
    resp = await client.post("/api/health-rooms/import?dry_run=false", data=bad.encode(),
                             headers={**api_headers(token), "Content-Type": "text/csv"})
    problem = await resp.json()
    assert resp.status == 422, problem
    fields = {e["field"]: e["message"] for e in problem["errors"]}
    assert fields["rows[4].name"] == "Dette helserommet står to ganger i filen."
    assert fields["rows[4].email"] == "Skriv en gyldig e-postadresse."
    assert fields["rows[4].equipment"] == "Dette utstyret kjenner vi ikke. Velg fra listen."
    assert fields["rows[4].hours"] == "Skriv tider som 08:00-15:30."
    assert fields["rows[5].name"] == "Dette feltet må fylles ut." or "rows[5].name" in fields
    assert fields["rows[5].municipality"] == "Velg en kommune fra listen."
    assert await _room_count(db) == rooms
    # The page's dry run lists the same problems by row and column, in bokmål.
    resp = await client.post("/resources/import", data={"csrf_token": token, "csv_text": bad})
    page = await resp.text()
    assert resp.status == 422 and "Filen ble ikke importert" in page
    assert "<td>4</td><td>utstyr</td><td>Dette utstyret kjenner vi ikke. Velg fra listen.</td>" in page
    assert await _room_count(db) == rooms
    # A clean file: checked first (nothing written), then imported together.
    resp = await client.post("/resources/import", data={"csrf_token": token, "csv_text": ROOMS_CSV})
    page = await resp.text()
    assert resp.status == 200 and "2 helserom er klare til å importeres." in page
    assert await _room_count(db) == rooms
    resp = await client.post("/resources/import", data={"csrf_token": token, "csv_text": ROOMS_CSV,
                                                         "confirm": "1"}, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    assert await _room_count(db) == rooms + 2
    page = await (await client.get("/resources")).text()
    assert "Helserom Sleneset" in page and "Undersøkelseskamera" in page


async def test_equipment_item_in_a_room_counts_as_the_rooms_equipment(client: TestClient, seeded: Seeded,
                                                                      clock: FixedClock) -> None:
    headers = api_headers(await login_as(client, "admin", clock))
    room = await client.post("/api/health-rooms", json={
        "name": "Helserom Aldersund", "municipality_id": seeded.organisations["Lurøy kommune"],
        "equipment": ["laser"], "hours": [{"weekday": 0, "start": "08:00", "end": "15:00"}]}, headers=headers)
    assert room.status == 422 and (await room.json())["errors"][0]["field"] == "equipment_codes"
    room = await client.post("/api/health-rooms", json={
        "name": "Helserom Aldersund", "municipality_id": seeded.organisations["Lurøy kommune"],
        "hours": [{"weekday": 0, "start": "08:00", "end": "15:00"}]}, headers=headers)
    assert room.status == 201, await room.text()
    room_id = (await room.json())["id"]
    item = await client.post("/api/equipment-items", json={"kind": "ecg", "name": "EKG 1", "room_id": room_id},
                             headers=headers)
    assert item.status == 201, await item.text()
    body = await item.json()
    assert body["room_id"] == room_id and body["equipment"] == ["ecg"]
    page = await (await client.get(f"/resources/{room_id}")).text()
    assert "EKG 1" in page
    off = await client.patch(f"/api/resources/{body['id']}", json={"active": False}, headers=headers)
    assert off.status == 200 and (await off.json())["active"] is False


async def test_a_type_no_room_can_take_says_what_is_missing(client: TestClient, seeded: Seeded,
                                                            clock: FixedClock) -> None:
    """A type asking for equipment no room in the municipality has: the search says which part and why."""
    headers = api_headers(await login_as(client, "leder", clock))
    created = await client.post("/api/consultation-types", json={
        "name": "Hjertesjekk", "name_en": "Heart check", "duration_minutes": 20, "min_notice_minutes": 0,
        "buffer_before_minutes": 0, "buffer_after_minutes": 0,
        "requirements": [{"key": "room", "kind": "health_room", "equipment": ["ecg"]}]}, headers=headers)
    assert created.status == 201, await created.text()
    headers = api_headers(await login_as(client, "koordinator", clock))
    resp = await client.get("/api/slots", params={
        "consultation_type_id": str((await created.json())["id"]), "from": "2026-11-23", "to": "2026-11-24",
        "municipality_id": str(seeded.organisations["Lurøy kommune"])}, headers=headers)
    problem = await resp.json()
    assert resp.status == 422, problem
    assert problem["errors"] == [{
        "field": "room", "code": "no_room_with_equipment",
        "message": "Ingen helserom i pasientens kommune har utstyret denne konsultasjonstypen trenger. Legg "
                   "utstyret til et helserom, eller endre konsultasjonstypen."}]


async def test_a_type_can_require_a_profession_of_the_patients_municipality(client: TestClient, seeded: Seeded,
                                                                             clock: FixedClock) -> None:
    """A home visit by the municipality's physiotherapist: offered once someone of that profession in the
    municipality is bookable, and until then the search says so."""
    headers = api_headers(await login_as(client, "leder", clock))
    body = {"name": "Fysioterapi hjemme", "name_en": "Physiotherapy at home", "duration_minutes": 30,
            "min_notice_minutes": 0, "buffer_before_minutes": 0, "buffer_after_minutes": 0,
            "requirements": [{"key": "physio", "kind": "profession", "profession": "astronaut"},
                             {"key": "patient", "kind": "patient_home"}]}
    refused = await client.post("/api/consultation-types", json=body, headers=headers)
    problem = await refused.json()
    assert refused.status == 422 and problem["errors"] == [{
        "field": "requirements.physio", "code": "unknown_profession", "message": "Velg et yrke fra listen."}]
    body["requirements"][0]["profession"] = "physiotherapist"
    created = await client.post("/api/consultation-types", json=body, headers=headers)
    assert created.status == 201, await created.text()
    ctype = await created.json()
    assert ctype["requirements"][0]["profession"] == "physiotherapist"
    search = {"consultation_type_id": str(ctype["id"]), "from": "2026-11-23", "to": "2026-11-24",
              "municipality_id": str(seeded.organisations["Rødøy kommune"])}

    headers = api_headers(await login_as(client, "koordinator", clock))
    resp = await client.get("/api/slots", params=search, headers=headers)
    problem = await resp.json()
    assert resp.status == 422 and problem["errors"][0]["field"] == "physio"
    assert problem["errors"][0]["code"] == "no_profession_bookable"

    # The Rødøy nurse, who is bookable already, retrains as a physiotherapist: she is offered.
    headers = api_headers(await login_as(client, "admin", clock))
    users = await (await client.get("/api/users", headers=headers)).json()
    kari = next(u for u in users if u["username"] == "sykepleier.rodoy")
    changed = await client.patch(f"/api/users/{kari['id']}", json={"profession": "physiotherapist"},
                                 headers=headers)
    assert changed.status == 200, await changed.text()
    headers = api_headers(await login_as(client, "koordinator", clock))
    resp = await client.get("/api/slots", params=search, headers=headers)
    slots = await resp.json()
    assert resp.status == 200 and slots, slots
    assert [(p["key"], p["name"]) for p in slots[0]["participants"]] == [("physio", "Kari Nilsen")]


async def test_the_type_form_takes_a_profession_and_says_when_it_is_missing(client: TestClient, seeded: Seeded,
                                                                            clock: FixedClock) -> None:
    token = await login_as(client, "leder", clock)
    form = {"csrf_token": token, "name": "Legemiddelgjennomgang", "name_en": "Medication review",
            "duration_minutes": "30", "min_notice_minutes": "60", "buffer_before_minutes": "0",
            "buffer_after_minutes": "0", "need_nurse": "1", "need_profession": "1", "profession": ""}
    resp = await client.post("/consultation-types/new", data=form, allow_redirects=False)
    page = await resp.text()
    assert resp.status == 422 and '<p class="field-error" id="e-profession">Velg et yrke fra listen.</p>' in page
    assert 'value="Legemiddelgjennomgang"' in page
    resp = await client.post("/consultation-types/new", data={**form, "profession": "pharmacist"},
                             allow_redirects=False)
    assert resp.status == 303, await resp.text()
    listing = await (await client.get("/api/consultation-types", headers=api_headers(token))).json()
    review = next(t for t in listing if t["name"] == "Legemiddelgjennomgang")
    assert [(r["key"], r["kind"], r["profession"]) for r in review["requirements"]] == [
        ("nurse", "municipality_nurse", ""), ("pharmacist", "profession", "pharmacist")]
    page = await (await client.get(f"/consultation-types/{review['id']}")).text()
    assert '<option value="pharmacist" selected>' in page


async def test_a_requirement_keeps_only_what_its_kind_uses(client: TestClient, seeded: Seeded,
                                                          clock: FixedClock) -> None:
    # Found by the API fuzzer's chains of calls: a person id that does not exist, sent with a kind that
    # names no person, reached the database and broke its foreign key (500). It means nothing there.
    headers = api_headers(await login_as(client, "koordinator", clock))
    types = {t["code"]: t for t in await (await client.get("/api/consultation-types")).json()}
    short = types["short_follow_up"]
    body = {"name": short["name"], "name_en": short["name_en"], "duration_minutes": 20, "min_notice_minutes": 60,
            "buffer_before_minutes": 0, "buffer_after_minutes": 5, "requirements": [
                {"key": "nurse", "kind": "municipality_nurse", "resource_id": 707, "department_id": 999_999,
                 "profession": "pharmacist"},
                {"key": "specialist", "kind": "department_specialist", "department_id": next(
                    r["department_id"] for r in short["requirements"] if r.get("department_id")),
                 "resource_id": 707}]}
    resp = await client.put(f"/api/consultation-types/{short['id']}", json=body, headers=headers)
    assert resp.status == 200, await resp.text()
    kept = {r["key"]: r for r in (await resp.json())["requirements"]}
    assert kept["nurse"]["kind"] == "municipality_nurse"
    assert not kept["nurse"].get("resource_id") and not kept["nurse"].get("department_id")
    assert not kept["nurse"].get("profession")
    assert not kept["specialist"].get("resource_id") and kept["specialist"]["department_id"]
    again = {t["code"]: t for t in await (await client.get("/api/consultation-types")).json()}
    assert again["short_follow_up"]["requirements"] == (await resp.json())["requirements"]
