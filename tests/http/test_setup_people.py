"""Setting up people in the pages and the API: organisations and travel, staff edit, deactivation,
temporary passwords, two-factor reset, and the staff CSV import (dry run first, then all or nothing)."""

from __future__ import annotations

import re

from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from scheduling.models import Resource
from server.people.models import MunicipalityTravel, User, WebSession
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import api_headers, csrf_token, login_as


async def _user(db: Database, username: str) -> User:
    async with db.session() as session:
        return (await session.execute(select(User).where(User.username == username))).scalar_one()


async def _audited(db: Database, action: str, object_type: str) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == action, AuditEntry.object_type == object_type))).scalar_one())


async def test_travel_form_says_what_is_wrong_in_bokmal_and_keeps_what_was_typed(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    token = await login_as(client, "admin", clock)
    luroy, hospital = seeded.organisations["Lurøy kommune"], seeded.organisations["Helgelandssykehuset Mo i Rana"]
    page = await (await client.get(f"/admin/organisations/{luroy}")).text()
    assert "Reise til sykehuset" in page and "118 km" in page and "2 t 50 min" in page and "Ja, 45 min" in page
    resp = await client.post(f"/admin/organisations/{luroy}/travel", data={
        "csrf_token": token, "hospital_id": str(hospital), "distance_km": "tolv", "travel_minutes": "2:30",
        "transport": "express_boat", "ferry": "on", "ferry_minutes": ""})
    assert resp.status == 422
    html = await resp.text()
    assert "Skriv avstanden i kilometer" in html and "Skriv hvor lang tid ferja tar." in html
    assert 'value="tolv"' in html and 'value="2:30"' in html and '<option value="express_boat" selected>' in html
    resp = await client.post(f"/admin/organisations/{luroy}/travel", data={
        "csrf_token": token, "hospital_id": str(hospital), "distance_km": "121,5", "travel_minutes": "2:30",
        "transport": "express_boat", "ferry": "", "ferry_minutes": ""}, allow_redirects=False)
    assert resp.status == 303
    async with db.session() as session:
        rows = (await session.execute(select(MunicipalityTravel).where(
            MunicipalityTravel.municipality_id == luroy))).scalars().all()
    assert [(r.distance_km, r.travel_minutes, r.transport, r.ferry) for r in rows] == [
        (121.5, 150, "express_boat", False)]
    assert await _audited(db, "update", "municipality_travel") == 1


async def test_organisation_details_departments_and_travel_through_the_api(
        client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    token = await login_as(client, "admin", clock)
    headers = api_headers(token)
    resp = await client.post("/api/organisations", json={"name": "Træna kommune", "kind": "municipality",
                                                           "code": "1835"}, headers=headers)
    assert resp.status == 201, await resp.text()
    traena = (await resp.json())["id"]
    resp = await client.patch(f"/api/organisations/{traena}", json={"centre_latitude": 66.5}, headers=headers)
    assert resp.status == 422
    assert (await resp.json())["errors"][0]["message"] == "Skriv både breddegrad og lengdegrad, eller ingen av dem."
    resp = await client.patch(f"/api/organisations/{traena}", json={
        "address": "Selvær, 8770 Træna", "centre_name": "Husøy", "centre_latitude": 66.4967,
        "centre_longitude": 12.0986}, headers=headers)
    assert resp.status == 200 and (await resp.json())["centre_name"] == "Husøy"
    hospital = seeded.organisations["Helgelandssykehuset Mo i Rana"]
    resp = await client.post(f"/api/organisations/{hospital}/departments", json={"name": "Lindrende"},
                             headers=headers)
    assert resp.status == 201
    resp = await client.put(f"/api/organisations/{traena}/travel/{hospital}", json={
        "distance_km": 160, "travel_minutes": 300, "transport": "express_boat", "ferry": False}, headers=headers)
    assert resp.status == 200, await resp.text()
    # Travel belongs to municipalities: a hospital has none of its own.
    resp = await client.put(f"/api/organisations/{hospital}/travel/{hospital}", json={
        "distance_km": 1, "travel_minutes": 1, "transport": "car"}, headers=headers)
    assert resp.status == 409
    body = await (await client.get(f"/api/organisations/{traena}")).json()
    assert body["travel"][0]["travel_minutes"] == 300 and body["address"] == "Selvær, 8770 Træna"


async def test_editing_a_user_keeps_what_was_typed_on_error_and_is_audited(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    token = await login_as(client, "admin", clock)
    nurse = seeded.users["sykepleier.rodoy"]
    org = seeded.organisations["Rødøy kommune"]
    form = {"csrf_token": token, "display_name": "Kari Nilsen Holm", "role": "nurse", "profession": "nurse",
            "organisation_id": str(org), "department_id": "", "email": "kari@", "phone": "41 00 00 09"}
    resp = await client.post(f"/admin/users/{nurse}", data=form)
    assert resp.status == 422
    html = await resp.text()
    assert "Skriv en gyldig e-postadresse." in html or "e-post" in html.lower()
    assert 'value="Kari Nilsen Holm"' in html and 'value="kari@"' in html
    resp = await client.post(f"/admin/users/{nurse}", data={**form, "email": "kari.holm@example.no",
                                                            "profession": "physiotherapist"},
                             allow_redirects=False)
    assert resp.status == 303
    user = await _user(db, "sykepleier.rodoy")
    assert (user.display_name, user.profession, user.email) == ("Kari Nilsen Holm", "physiotherapist",
                                                                "kari.holm@example.no")
    assert await _audited(db, "update", "user") == 1
    page = await (await client.get("/admin/users")).text()
    assert "Fysioterapeut" in page or "fysioterapeut" in page


async def test_a_deactivated_user_cannot_log_in_and_leaves_the_choosers_but_keeps_history(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    token = await login_as(client, "admin", clock)
    doctor = seeded.users["lege"]
    resp = await client.post(f"/admin/users/{doctor}/deactivate", data={"csrf_token": token},
                             allow_redirects=False)
    assert resp.status == 303
    page = await (await client.get("/admin/users")).text()
    deactivated = page.split("Deaktiverte brukere", 1)[1]
    assert "Ingrid Hansen" in deactivated  # listed, not deleted
    async with db.session() as session:
        resource = (await session.execute(select(Resource).where(Resource.user_id == doctor))).scalar_one()
        assert not resource.active  # no longer offered for new bookings
        assert not (await session.execute(select(WebSession).where(WebSession.user_id == doctor))).first()
    assert await _audited(db, "deactivate", "user") == 1
    await client.post("/logout", data={"csrf_token": token})
    login_token = await csrf_token(client)
    resp = await client.post("/login", data={"csrf_token": login_token, "username": "lege",
                                             "password": "demo-passord-2026"})
    assert resp.status == 401 and "Feil brukernavn eller passord" in await resp.text()
    # An administrator cannot deactivate themselves by mistake.
    token = await login_as(client, "admin", clock)
    resp = await client.post(f"/api/users/{seeded.users['admin']}/deactivate", headers=api_headers(token))
    assert resp.status == 409


async def test_a_temporary_password_is_shown_once_and_must_be_changed(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    token = await login_as(client, "admin", clock)
    resp = await client.post(f"/admin/users/{seeded.users['koordinator']}/reset-password",
                             data={"csrf_token": token})
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    html = await resp.text()
    match = re.search(r'data-testid="temporary-password">([a-z0-9-]+)<', html)
    assert match and "Det vises bare nå" in html
    temporary = match.group(1)
    again = await (await client.get(f"/admin/users/{seeded.users['koordinator']}")).text()
    assert temporary not in again
    await client.post("/logout", data={"csrf_token": token})
    # The coordinator logs in with it (two-factor as before) and can do nothing but choose a password.
    from server.people import totp
    from tests.conftest import DEMO_TOTP_SECRET
    login_token = await csrf_token(client)
    resp = await client.post("/login", data={"csrf_token": login_token, "username": "koordinator",
                                             "password": temporary}, allow_redirects=False)
    assert resp.headers["Location"] == "/login/totp"
    resp = await client.post("/login/totp", data={"csrf_token": login_token,
                                                  "code": totp.current_code(DEMO_TOTP_SECRET, clock.now())},
                             allow_redirects=False)
    assert resp.status == 303
    resp = await client.get("/referrals", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/account")
    resp = await client.get("/api/referrals")
    assert resp.status == 403 and (await resp.json())["code"] == "password_change_required"
    account = await (await client.get("/account")).text()
    assert "midlertidig passord" in account
    token = await csrf_token(client, "/account")
    resp = await client.post("/account/password", data={
        "csrf_token": token, "old_password": temporary, "new_password": "mitt-eget-passord-1",
        "repeat_password": "mitt-eget-passord-1"}, allow_redirects=False)
    assert resp.status == 303
    assert (await client.get("/referrals")).status == 200
    assert not (await _user(db, "koordinator")).must_change_password
    assert await _audited(db, "reset_password", "user") == 1


async def test_resetting_two_factor_sends_the_user_to_enrol_again(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    token = await login_as(client, "admin", clock)
    resp = await client.post(f"/api/users/{seeded.users['leder']}/reset-two-factor", headers=api_headers(token))
    assert resp.status == 200 and (await resp.json())["two_factor_set_up"] is False
    await client.post("/logout", data={"csrf_token": token})
    login_token = await csrf_token(client)
    resp = await client.post("/login", data={"csrf_token": login_token, "username": "leder",
                                             "password": "demo-passord-2026"}, allow_redirects=False)
    assert resp.headers["Location"] == "/login/enrol"
    assert await _audited(db, "reset_totp", "user") == 1


BAD_CSV = ("brukernavn;navn;rolle;organisasjon;avdeling;yrke;e-post;telefon\n"
           "per.hansen;Per Hansen;sykepleier;Rødøy kommune;;sykepleier;per@example.no;\n"
           "lege;Ny Lege;spesialist;Helgelandssykehuset Mo i Rana;Kirurgi;lege;;\n"
           "per.hansen;Per Hansen;vaktmester;Ukjent kommune;;snekker;per@;12\n")
GOOD_CSV = ("username,name,role,organisation,department,profession,email,phone\n"
            "per.hansen,Per Hansen,nurse,1836,,nurse,per@example.no,\n"
            "eva.lie,Eva Lie,specialist,Helgelandssykehuset Mo i Rana,Geriatri,doctor,,\n")


async def _users(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count(User.id)))).scalar_one())


async def test_a_bad_staff_file_is_listed_row_by_row_in_bokmal_and_changes_nothing(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    token = await login_as(client, "admin", clock)
    before = await _users(db)
    form = FormData({"csrf_token": token, "mode": "check"})
    form.add_field("file", BAD_CSV.encode("cp1252"), filename="ansatte.csv", content_type="text/csv")
    resp = await client.post("/admin/users/import", data=form)
    assert resp.status == 422
    html = await resp.text()
    assert "Filen har 8 problemer. Ingenting ble importert." in html, html
    for expected in ("Brukernavnet er opptatt.", "Velg en avdeling i den valgte organisasjonen.",
                     "Brukernavnet står tidligere i filen.", "Ukjent rolle.", "Ukjent organisasjon.",
                     "Ukjent yrke.", "Skriv en gyldig e-postadresse.", "Skriv et telefonnummer"):
        assert expected in html, expected
    assert "<td>4</td>" in html  # the row number as in the spreadsheet (the header is row 1)
    # Even sent straight to the import, the file is refused whole.
    resp = await client.post("/admin/users/import", data={"csrf_token": token, "mode": "import",
                                                           "content": BAD_CSV})
    assert resp.status == 422
    resp = await client.post("/api/users/import?dry_run=false", data=BAD_CSV.encode(),
                             headers={**api_headers(token), "Content-Type": "text/csv"})
    assert resp.status == 422
    problem = await resp.json()
    assert problem["code"] == "csv_has_problems" and {"row": 3, "column": "department",
                                                     "code": "unknown_department",
                                                     "message": "Velg en avdeling i den valgte organisasjonen."
                                                     } in problem["problems"]
    assert await _users(db) == before


async def test_a_clean_staff_file_is_checked_then_imported_in_one_go(
        client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    token = await login_as(client, "admin", clock)
    before = await _users(db)
    form = FormData({"csrf_token": token, "mode": "check"})
    form.add_field("file", GOOD_CSV.encode(), filename="ansatte.csv", content_type="text/csv")
    resp = await client.post("/admin/users/import", data=form)
    html = await resp.text()
    assert resp.status == 200 and "Filen er i orden: 2 ansatte er klare til å importeres." in html
    assert await _users(db) == before  # the check changed nothing
    content = re.search(r'name="content" value="([^"]*)"', html, re.S)
    assert content
    import html as html_lib
    resp = await client.post("/admin/users/import", data={
        "csrf_token": token, "mode": "import", "content": html_lib.unescape(content.group(1))},
        allow_redirects=False)
    assert resp.status == 303, await resp.text()
    assert "2 ansatte ble importert" in await (await client.get(resp.headers["Location"])).text()
    eva = await _user(db, "eva.lie")
    assert (eva.profession, eva.role.value, eva.must_change_password, eva.department.name if eva.department
            else None) == ("doctor", "specialist", True, "Geriatri")
    assert await _users(db) == before + 2
    assert await _audited(db, "import", "user") == 2
    # Imported staff have no password until an administrator gives them one.
    login_token = await csrf_token(client)
    resp = await client.post("/login", data={"csrf_token": login_token, "username": "eva.lie",
                                             "password": "!imported"})
    assert resp.status == 401


async def test_staff_api_lists_edits_and_refuses_other_roles(
        client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    token = await login_as(client, "admin", clock)
    headers = api_headers(token)
    users = await (await client.get("/api/users")).json()
    assert {u["username"] for u in users} >= {"lege", "admin"}
    nurse = seeded.users["sykepleier.luroy"]
    resp = await client.patch(f"/api/users/{nurse}", json={"profession": "snekker"}, headers=headers)
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "profession"
    resp = await client.patch(f"/api/users/{nurse}", json={"profession": "occupational_therapist"},
                              headers=headers)
    assert resp.status == 200 and (await resp.json())["profession"] == "occupational_therapist"
    resp = await client.post(f"/api/users/{nurse}/reset-password", headers=headers)
    assert resp.status == 200 and len((await resp.json())["temporary_password"]) == 14
    await client.post("/logout", data={"csrf_token": token})
    token = await login_as(client, "koordinator", clock)
    assert (await client.get("/api/users")).status == 403
    assert (await client.get(f"/admin/users/{nurse}")).status == 403
