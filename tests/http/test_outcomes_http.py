"""What followed a consultation, over HTTP: the booking page asks as the consultation is completed and
keeps every answer when one is missing, the JSON API records and shows it, and referrals say whether an
escort or the municipal nurse would have travelled too."""

from __future__ import annotations

import html
import re

from aiohttp.test_utils import TestClient

from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import api_headers, login_as
from tests.http.notes_documents import seeded_booking


def _checked(page: str, name: str) -> set[str]:
    """The values of the ticked boxes or radio buttons called ``name``."""
    return {m.group(1) for m in re.finditer(rf'<input type="(?:checkbox|radio)" name="{name}" value="([^"]+)" checked',
                                            page)}


async def test_completing_on_the_booking_page_asks_what_followed(
        client: TestClient, db: Database, seeded: Seeded, clock: FixedClock) -> None:
    booking = await seeded_booking(db)  # Marit's: the specialist, the Rødøy nurse and health room
    token = await login_as(client, "lege", clock)
    page = html.unescape(await (await client.get(f"/bookings/{booking}")).text())
    assert "Fullfør konsultasjonen" not in page and "Hva som skjedde etterpå" not in page
    resp = await client.post(f"/api/bookings/{booking}/status", headers=api_headers(token),
                             json={"status": "in_progress"})
    assert resp.status == 200, await resp.text()

    page = html.unescape(await (await client.get(f"/bookings/{booking}")).text())
    assert f'action="/bookings/{booking}/complete"' in page
    assert "Slapp pasienten å bli lagt inn på sykehus takket være konsultasjonen?" in page
    assert "Hvem følger opp pasienten?" in page and "Hjemmetjenesten" in page and "Poliklinikken" in page
    assert f'action="/bookings/{booking}/status"' not in page, "completing goes through the question"

    # No answer to the first question: refused, and the ticked boxes come back ticked.
    resp = await client.post(f"/bookings/{booking}/complete", allow_redirects=False, data=[
        ("csrf_token", token), ("follow_up", "home_care"), ("follow_up", "gp")])
    page = html.unescape(await resp.text())
    assert resp.status == 422
    assert "Velg om konsultasjonen gjorde at pasienten slapp å bli lagt inn." in page
    assert _checked(page, "follow_up") == {"home_care", "gp"} and not _checked(page, "admission_avoided")
    assert 'aria-describedby="e-admission_avoided"' in page
    # Spared an admission and admitted: refused, the answers kept.
    resp = await client.post(f"/bookings/{booking}/complete", allow_redirects=False, data=[
        ("csrf_token", token), ("admission_avoided", "yes"), ("follow_up", "admission")])
    page = html.unescape(await resp.text())
    assert resp.status == 422 and "Pasienten kan ikke både ha sluppet innleggelse og bli lagt inn." in page
    assert _checked(page, "admission_avoided") == {"yes"} and _checked(page, "follow_up") == {"admission"}
    assert (await (await client.get(f"/api/bookings/{booking}")).json())["status"] == "in_progress"

    resp = await client.post(f"/bookings/{booking}/complete", allow_redirects=False, data=[
        ("csrf_token", token), ("admission_avoided", "yes"), ("follow_up", "gp"), ("follow_up", "home_care")])
    assert resp.status == 303 and resp.headers["Location"] == f"/bookings/{booking}?completed=1#outcome"
    page = html.unescape(await (await client.get(resp.headers["Location"])).text())
    assert "Konsultasjonen er fullført, og hva som skjedde etterpå, er lagret." in page
    assert "Ja, pasienten slapp innleggelse" in page and "Hjemmetjenesten, Fastlege" in page
    assert "Ingrid Hansen" in page and "Endre hva som skjedde etterpå" in page
    data = await (await client.get(f"/api/bookings/{booking}")).json()
    assert data["status"] == "completed"
    assert data["outcome"]["admission_avoided"] == "yes" and data["outcome"]["follow_up"] == ["home_care", "gp"]
    assert data["outcome"]["recorded_by"] == "Ingrid Hansen"

    # The nurse who took part changes it afterwards.
    nurse_token = await login_as(client, "sykepleier.rodoy", clock)
    resp = await client.post(f"/bookings/{booking}/outcome", allow_redirects=False, data=[
        ("csrf_token", nurse_token), ("admission_avoided", "uncertain")])
    assert resp.status == 303 and resp.headers["Location"] == f"/bookings/{booking}?outcome=1#outcome"
    page = html.unescape(await (await client.get(resp.headers["Location"])).text())
    assert "Hva som skjedde etter konsultasjonen, er lagret." in page
    assert "Usikkert" in page and "Ingen oppfølging trengs" in page and "Kari Nilsen" in page
    assert _checked(page, "admission_avoided") == {"uncertain"} and not _checked(page, "follow_up")

    await client.post("/language", data={"csrf_token": nurse_token, "lang": "en"})
    page = html.unescape(await (await client.get(f"/bookings/{booking}")).text())
    assert "What followed" in page and "Uncertain" in page and "No follow-up needed" in page


async def test_someone_who_did_not_take_part_sees_the_outcome_but_no_form(
        client: TestClient, db: Database, seeded: Seeded, clock: FixedClock) -> None:
    booking = await seeded_booking(db)
    token = await login_as(client, "lege", clock)
    for status in ("in_progress", "completed"):
        resp = await client.post(f"/api/bookings/{booking}/status", headers=api_headers(token), json={"status": status})
        assert resp.status == 200, await resp.text()
    client.session.cookie_jar.clear()
    # Ola Johansen is a nurse in Lurøy: Marit (Rødøy) is not his patient, so the booking is not there
    token = await login_as(client, "sykepleier.luroy", clock)
    resp = await client.put(f"/api/bookings/{booking}/outcome", headers=api_headers(token),
                            json={"admission_avoided": "yes", "follow_up": []})
    assert resp.status == 404 and resp.content_type == "application/problem+json"
    client.session.cookie_jar.clear()
    token = await login_as(client, "koordinator", clock)
    page = html.unescape(await (await client.get(f"/bookings/{booking}")).text())
    assert "Ingen har skrevet inn hva som skjedde etter denne konsultasjonen ennå." in page
    assert f'action="/bookings/{booking}/outcome"' in page  # the coordinator may tidy up


async def test_the_api_records_the_outcome_and_refuses_bad_input_as_problems(
        client: TestClient, db: Database, seeded: Seeded, clock: FixedClock) -> None:
    booking = await seeded_booking(db)
    headers = api_headers(await login_as(client, "koordinator", clock))
    url = f"/api/bookings/{booking}/outcome"
    resp = await client.put(url, headers=headers, json={"admission_avoided": "yes", "follow_up": ["gp"]})
    assert resp.status == 409 and resp.content_type == "application/problem+json"
    assert (await resp.json())["code"] == "not_completed"
    for status in ("in_progress", "completed"):
        assert (await client.post(f"/api/bookings/{booking}/status", headers=headers,
                                  json={"status": status})).status == 200

    for body, fields in (
        ({"admission_avoided": "maybe", "follow_up": ["dentist"], "note": "x"},
         {"admission_avoided": "invalid_choice", "follow_up": "invalid_choice", "note": "unknown_field"}),
        ({"admission_avoided": "no"}, {"follow_up": "required"}),
        ({"follow_up": []}, {"admission_avoided": "required"}),
        ({"admission_avoided": "yes", "follow_up": ["admission"]}, {"follow_up": "outcome_contradiction"}),
        ({"admission_avoided": "no", "follow_up": ["gp", "gp"]}, {"follow_up": "duplicate"}),
        ({"admission_avoided": "no", "follow_up": "gp"}, {"follow_up": "invalid_choice"}),
    ):
        resp = await client.put(url, headers=headers, json=body)
        assert resp.status == 422 and resp.content_type == "application/problem+json", body
        problem = await resp.json()
        assert {e["field"]: e["code"] for e in problem["errors"]} == fields, problem
        assert all(e["message"] for e in problem["errors"])
    assert (await (await client.get(f"/api/bookings/{booking}")).json())["outcome"] is None

    resp = await client.put(url, headers=headers, json={"admission_avoided": "no",
                                                       "follow_up": ["admission", "home_care"]})
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    assert data["outcome"]["admission_avoided"] == "no"
    assert data["outcome"]["follow_up"] == ["home_care", "admission"] and data["outcome"]["recorded_by"] == "Siri Berg"

    document = await (await client.get("/api/openapi.json")).json()
    operation = document["paths"]["/api/bookings/{public_id}/outcome"]["put"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OutcomeInput"}
    assert {"200", "409", "422"} <= set(operation["responses"])
    schemas = document["components"]["schemas"]
    assert schemas["OutcomeInput"]["properties"]["follow_up"]["items"]["enum"] == [
        "home_care", "gp", "outpatient", "admission"]
    assert "outcome" in schemas["Booking"]["properties"]
    assert {"escort_needed", "nurse_would_travel"} <= set(schemas["ReferralInput"]["properties"])


async def test_a_referral_says_whether_an_escort_or_the_nurse_would_have_travelled(
        client: TestClient, seeded: Seeded, clock: FixedClock) -> None:
    token = await login_as(client, "sykepleier.rodoy", clock)
    astrid = seeded.patients["Astrid"]
    resp = await client.post("/api/referrals", headers=api_headers(token), json={
        "patient_id": astrid, "reason": "Fall", "urgency": "week", "escort_needed": True,
        "nurse_would_travel": True})
    assert resp.status == 201, await resp.text()
    made = await resp.json()
    assert made["escort_needed"] is True and made["nurse_would_travel"] is True
    resp = await client.post("/api/referrals", headers=api_headers(token), json={
        "patient_id": astrid, "reason": "Fall", "urgency": "week", "escort_needed": "ja"})
    assert resp.status == 422
    assert {e["field"]: e["code"] for e in (await resp.json())["errors"]} == {"escort_needed": "invalid_choice"}

    # The form: a missing reason comes back with the ticks kept.
    form = await (await client.get(f"/referrals/new?patient={astrid}")).text()
    assert "Pasienten ville trengt ledsager" in form and "Sykepleier fra kommunen ville reist med" in form
    resp = await client.post("/referrals/new", allow_redirects=False, data={
        "csrf_token": token, "patient": astrid, "reason": "", "urgency": "day", "escort_needed": "on"})
    page = await resp.text()
    assert resp.status == 422
    assert 'id="f-escort_needed" name="escort_needed" type="checkbox" value="on" checked' in page
    assert 'id="f-nurse_would_travel" name="nurse_would_travel" type="checkbox" value="on">' in page
    resp = await client.post("/referrals/new", allow_redirects=False, data={
        "csrf_token": token, "patient": astrid, "reason": "Svimmel", "urgency": "day", "escort_needed": "on",
        "otherwise_hospital": "Helgelandssykehuset Mo i Rana", "travel_hours": "6,5"})
    assert resp.status == 303, await resp.text()
    slots_page = html.unescape(await (await client.get(resp.headers["Location"])).text())
    assert "Ville ellers reist til Helgelandssykehuset Mo i Rana (6,5 timer tur-retur)" in slots_page
    assert "Pasienten ville trengt ledsager" in slots_page
    assert "Sykepleier fra kommunen ville reist med" not in slots_page
    public_id = resp.headers["Location"].split("/")[2]
    data = await (await client.get(f"/api/referrals/{public_id}")).json()
    assert data["escort_needed"] is True and data["nurse_would_travel"] is False and data["travel_hours"] == 6.5
