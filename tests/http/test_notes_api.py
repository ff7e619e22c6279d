"""The notes API over HTTP: open, save with merge and 409 conflict, sign, amend, exports, access, CSRF."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient
from fhir.resources.bundle import Bundle
from fhir.resources.composition import Composition
from sqlalchemy import select

from server.people.models import Patient
from server.platform.audit_models import AuditEntry
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import api_headers, csrf_token, login_as
from tests.http.notes_documents import WHAT_MATTERS, created_note, note_document, seeded_booking

RISK = {"id": "r1", "unwanted_event": "Fall", "causes": ["Svimmelhet"], "consequences": ["Brudd"],
        "proactive_measures": ["Trening"], "reactive_measures": ["Trygghetsalarm"]}


async def test_write_sign_amend_export(client: TestClient, seeded: Seeded, clock: FixedClock, db: Database) -> None:
    booking = await seeded_booking(db)
    token = await login_as(client, "lege", clock)
    resp = await client.get(f"/api/bookings/{booking}/note")
    assert resp.status == 200, await resp.text()
    note = await resp.json()
    # Nobody has written yet: an empty note, with nothing stored for it (the first save creates it).
    assert note["id"] is None and note["version"] == 0 and note["status"] == "preliminary"
    assert "sign" in note["permissions"] and note["links"]["self"] == f"/api/bookings/{booking}/note"
    note = await created_note(client, booking, token)
    assert note["version"] == 1 and note["id"]
    url = note["links"]["self"]

    # Without the CSRF header a save is refused.
    resp = await client.put(url, json={"based_on": 1, "content": note_document(what_matters=WHAT_MATTERS)})
    assert resp.status == 403
    resp = await client.put(url, json={"based_on": 1, "content": note_document(what_matters=WHAT_MATTERS)},
                            headers=api_headers(token))
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["version"] == 2

    # Another save from version 1 touching another part merges.
    resp = await client.put(url, json={"based_on": 1, "content": note_document(risks=[RISK])},
                            headers=api_headers(token))
    body = await resp.json()
    assert resp.status == 200 and body["version"] == 3
    assert body["note"]["content"]["what_matters"] == WHAT_MATTERS and body["note"]["content"]["risks"] == [RISK]

    # Two saves from version 3 changing the same part: the second gets 409 with both texts.
    theirs = {**WHAT_MATTERS, "own_words": "Å være hjemme til jul"}
    mine = {**WHAT_MATTERS, "own_words": "Å klare meg selv"}
    await client.put(url, json={"based_on": 3, "content": note_document(what_matters=theirs, risks=[RISK])},
                     headers=api_headers(token))
    resp = await client.put(url, json={"based_on": 3, "content": note_document(what_matters=mine, risks=[RISK])},
                            headers=api_headers(token))
    assert resp.status == 409
    body = await resp.json()
    [conflict] = body["conflicts"]
    assert conflict["part"] == "what_matters"
    assert conflict["theirs"] == theirs and conflict["mine"] == mine and conflict["base"] == WHAT_MATTERS
    assert "Å være hjemme til jul" in conflict["theirs_text"] and "Å klare meg selv" in conflict["mine_text"]
    assert body["note"]["content"]["what_matters"] == theirs  # nothing overwritten

    # A part that breaks a rule is kept as the author's draft (its problem by field, in bokmål); nothing is
    # refused wholesale, and signing is held back until it is fixed.
    bad = {**RISK, "unwanted_event": ""}
    resp = await client.put(url, json={"based_on": 4, "content": note_document(what_matters=theirs, risks=[bad])},
                            headers=api_headers(token))
    body = await resp.json()
    assert resp.status == 200 and body["version"] == 4 and not body["saved"]
    assert body["drafts"] == [{"part": "risks[r1]", "errors": [
        {"field": "unwanted_event", "code": "required", "message": "Fyll ut dette feltet."}]}]
    assert body["note"]["content"]["risks"] == [RISK] and body["note"]["drafts"][0]["content"] == bad
    resp = await client.post(f"{url}/sign", headers=api_headers(token))
    assert resp.status == 409 and [b["part"] for b in (await resp.json())["blockers"]] == ["risks[r1]"]
    resp = await client.put(url, json={"based_on": 4, "content": note_document(what_matters=theirs, risks=[RISK])},
                            headers=api_headers(token))
    assert resp.status == 200 and (await resp.json())["drafts"] == []

    resp = await client.post(f"{url}/sign", headers=api_headers(token))
    assert resp.status == 200 and (await resp.json())["status"] == "final"
    # A save after signing leaves the signed content alone; what it changed becomes a draft amendment.
    resp = await client.put(url, json={"based_on": 4, "content": note_document(what_matters=WHAT_MATTERS)},
                            headers=api_headers(token))
    body = await resp.json()
    assert resp.status == 200 and not body["saved"] and body["after_signing"] == ["what_matters"]
    assert body["note"]["content"]["what_matters"] == theirs
    resp = await client.post(f"{url}/amendments", json={"part": "risks[r1]", "text": "Alarm montert."},
                             headers=api_headers(token))
    assert resp.status == 201 and (await resp.json())["status"] == "amended"

    versions = await (await client.get(f"{url}/versions")).json()
    assert [v["version"] for v in versions] == [1, 2, 3, 4]
    assert "content" not in versions[0]  # listed as metadata; content one link away
    first_page = await client.get(f"{url}/versions?limit=3")
    assert [v["version"] for v in await first_page.json()] == [1, 2, 3]
    assert first_page.headers["X-Total-Count"] == "4" and 'rel="next"' in first_page.headers["Link"]
    rest = await client.get(first_page.headers["Link"].split(">")[0].lstrip("<"))
    assert [v["version"] for v in await rest.json()] == [4] and "Link" not in rest.headers
    one = await (await client.get(versions[1]["links"]["self"])).json()
    assert one["version"] == 2 and "what_matters" in one["content"]
    assert (await client.get(f"{url}/versions/99")).status == 404
    assert (await client.get(f"{url}/versions?limit=0")).status == 422

    text = await client.get(f"{url}/export.txt")
    assert text.status == 200 and "Alarm montert." in await text.text()
    pdf = await client.get(f"{url}/export.pdf")
    assert pdf.status == 200 and pdf.content_type == "application/pdf" and (await pdf.read()).startswith(b"%PDF")
    fhir = await client.get(f"{url}/fhir?lang=en")
    assert fhir.status == 200 and fhir.content_type == "application/fhir+json"
    bundle = Bundle.model_validate(json.loads(await fhir.text()))
    composition = bundle.entry[0].resource
    assert isinstance(composition, Composition) and composition.status == "amended"

    # The printable page and the editor page answer.
    assert (await client.get(f"/notes/{note['id']}/print")).status == 200
    page = await client.get(f"/consultations/{booking}/note")
    html = await page.text()
    assert page.status == 200 and "/static/notes/note-page.js" in html and "<script>" not in html

    async with db.session() as session:
        actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.object_type == "note")
                                         .order_by(AuditEntry.seq))).scalars().all()
    # The first save (of nothing) created the note; seven more followed.
    assert actions[:3] == ["read", "create", "save"]
    assert actions.count("save") == 8 and "sign" in actions and "amend" in actions
    assert {"export:text", "export:pdf", "export:fhir", "read_versions"} <= set(actions)


async def test_notes_refusals_are_problem_json(client: TestClient, seeded: Seeded, clock: FixedClock,
                                              db: Database) -> None:
    booking = await seeded_booking(db)
    token = await login_as(client, "lege", clock)
    headers = api_headers(token)
    url = (await created_note(client, booking, token))["links"]["self"]

    async def problem(resp: Any) -> dict[str, Any]:
        assert resp.content_type == "application/problem+json"
        body: dict[str, Any] = await resp.json()
        assert body["status"] == resp.status and body["type"] == f"https://samkonsult.no/problems/{body['code']}"
        return body

    # A refusal of the whole note names no field; one headline per kind of refusal, the precise code beside it.
    body = await problem(await client.post(f"{url}/sign", headers=headers))
    assert (body["status"], body["code"]) == (422, "notes.empty")
    assert body["title"] == "Notatet kan ikke lagres slik det er."
    assert "errors" not in body
    body = await problem(await client.post(f"{url}/amendments", json={"part": "what_matters", "text": "x"},
                                           headers=headers))
    assert (body["status"], body["code"]) == (409, "notes.not_signed")
    assert body["title"] == "Notatet er endret eller signert."
    body = await problem(await client.put(url, json={"based_on": 99, "content": note_document()}, headers=headers))
    assert (body["status"], body["code"]) == (409, "notes.unknown_version")
    body = await problem(await client.put(url, json={"based_on": 1, "content": {**note_document(), "schema": 7}},
                                          headers=headers))
    assert (body["status"], body["code"], body["title"]) == (400, "notes.schema_unsupported", "Noe gikk galt.")
    # Only what fits no part (an item without its id: a fault of the client) is refused as a whole, each
    # problem by its path in the document and in the reader's words.
    body = await problem(await client.put(url, json={"based_on": 1, "content": note_document(
        risks=[{**RISK, "id": ""}])}, headers=headers))
    assert body["status"] == 422 and body["code"] == "notes.invalid"
    assert body["errors"] == [{"field": "risks[0].id", "code": "bad_id", "message":
                               "Redigeringen sendte en oppføring uten sin identitet. Last siden på nytt; teksten "
                               "din er tatt vare på."}]


async def test_other_municipality_gets_not_found(client: TestClient, seeded: Seeded, clock: FixedClock,
                                                 db: Database) -> None:
    booking = await seeded_booking(db)
    note = await created_note(client, booking, await login_as(client, "lege", clock))
    await client.post("/logout", data={"csrf_token": await csrf_token(client, "/account")})
    token = await login_as(client, "sykepleier.luroy", clock)
    assert (await client.get(note["links"]["self"])).status == 404
    resp = await client.put(note["links"]["self"],
                            json={"based_on": 1, "content": note_document(what_matters=WHAT_MATTERS)},
                            headers=api_headers(token))
    assert resp.status == 404
    assert (await client.get(f"/api/bookings/{booking}/note")).status == 404


async def test_coordinator_reads_with_reason_but_cannot_write(client: TestClient, seeded: Seeded,
                                                              clock: FixedClock, db: Database) -> None:
    booking = await seeded_booking(db)
    token = await login_as(client, "koordinator", clock)
    resp = await client.get(f"/api/bookings/{booking}/note")
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "reason"
    resp = await client.get(f"/api/bookings/{booking}/note?reason=Arkivering")
    assert resp.status == 200
    note = await resp.json()
    assert set(note["permissions"]) == {"read", "export"}
    resp = await client.put(f"{note['links']['self']}?reason=x", json={"based_on": 1, "content": note_document()},
                            headers=api_headers(token))
    assert resp.status == 403


async def test_openapi_documents_the_note_routes(client: TestClient) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    assert "put" in doc["paths"]["/api/notes/{note_id}"]
    assert "/api/bookings/{public_id}/note" in doc["paths"]
    assert "NoteSaved" in doc["components"]["schemas"]


async def test_exports_carry_identity_consultation_and_bow_tie(client: TestClient, seeded: Seeded,
                                                               clock: FixedClock, db: Database) -> None:
    """Through the API: the text, PDF and FHIR exports name the patient in full and describe the call."""
    booking = await seeded_booking(db)
    async with db.session() as session:
        national_id, birth = (await session.execute(
            select(Patient.national_id, Patient.birth_date).where(Patient.given_name == "Marit"))).one()
    token = await login_as(client, "lege", clock)
    note = await created_note(client, booking, token)
    url = note["links"]["self"]
    resp = await client.put(url, json={"based_on": 1, "content": note_document(risks=[RISK])},
                            headers=api_headers(token))
    assert resp.status == 200, await resp.text()

    text = await (await client.get(f"{url}/export.txt")).text()
    assert f"Fødselsnummer: {national_id}" in text and f"Fødselsdato: {birth:%d.%m.%Y}" in text
    assert "Navn: Marit Eriksen" in text and "Ingrid Hansen, Lege, Geriatri, Helgelandssykehuset Mo i Rana" in text
    assert "  [ Uønsket hendelse: Fall ]" in text
    english = await (await client.get(f"{url}/export.txt?lang=en")).text()
    assert f"National identity number: {national_id}" in english and "Participants:" in english

    pdf = await client.get(f"{url}/export.pdf")
    assert pdf.status == 200 and (await pdf.read()).startswith(b"%PDF")

    data = json.loads(await (await client.get(f"{url}/fhir")).text())
    bundle = Bundle.model_validate(data)
    assert bundle.entry is not None and isinstance(bundle.entry[0].resource, Composition)
    urls = {e["fullUrl"] for e in data["entry"]}
    [patient] = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert patient["identifier"][0]["value"] == national_id and patient["birthDate"] == birth.isoformat()
    [encounter] = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Encounter"]
    assert encounter["participant"] and all(p["actor"]["reference"] in urls for p in encounter["participant"])
    assert data["entry"][0]["resource"]["subject"][0]["reference"] in urls
