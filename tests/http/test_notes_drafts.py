"""The notes API keeps what breaks a rule as the author's draft: the answer's shape, bokmål messages, the
draft on reload, signing's 409 with every blocker, and the note's size limit stated to the editor."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.conftest import Seeded
from tests.helpers import api_headers, login_as
from tests.http.notes_documents import WHAT_MATTERS, created_note, note_document, seeded_booking

MEASURE = {"id": "m1", "what": "Fysioterapi", "responsible": {"kind": "home_care", "name": ""},
           "start_date": "2026-12-10", "evaluation_date": "2026-12-01", "status": "planned"}
LONG = "x" * 10_001


async def test_invalid_parts_are_drafts_with_bokmal_messages(client: TestClient, seeded: Seeded, clock: FixedClock,
                                                             db: Database) -> None:
    booking = await seeded_booking(db)
    token = await login_as(client, "lege", clock)
    headers = api_headers(token)
    note = await created_note(client, booking, token)
    url = note["links"]["self"]
    assert note["drafts"] == [] and note["limits"] == {"note_chars": 1_500_000}

    doc = note_document(what_matters=WHAT_MATTERS, measures=[MEASURE],
                        profession_texts=[{"profession": "physician", "text": LONG}])
    resp = await client.put(url, json={"based_on": 1, "content": doc}, headers=headers)
    body: dict[str, Any] = await resp.json()
    assert resp.status == 200 and body["saved"] and body["version"] == 2
    assert body["drafts"] == [
        {"part": "measures[m1]", "errors": [{"field": "evaluation_date", "code": "before_start",
                                             "message": "Evalueringsdatoen er før startdatoen."}]},
        {"part": "profession_text[physician]", "errors": [{"field": "text", "code": "too_long", "message":
            "For lang: høyst 10\u00a0000 tegn. Gjør teksten kortere; ingenting av det du skrev er borte."}]},
    ]
    assert body["note"]["content"]["what_matters"] == WHAT_MATTERS
    assert body["note"]["content"]["measures"] == [] and body["note"]["content"]["profession_texts"] == []

    # Reloading gives the author the drafts with what they typed.
    again = await (await client.get(url)).json()
    assert {d["part"]: d["content"] for d in again["drafts"]} == {
        "measures[m1]": MEASURE, "profession_text[physician]": {"profession": "physician", "text": LONG}}

    # Signing answers 409 with every blocker, once each, in bokmål.
    resp = await client.post(f"{url}/sign", headers=headers)
    problem = await resp.json()
    assert resp.status == 409 and resp.content_type == "application/problem+json"
    assert problem["code"] == "notes.sign_blocked"
    assert problem["title"] == "Notatet kan ikke signeres ennå. Rett dette først:"
    assert [(b["part"], b["field"], b["message"]) for b in problem["blockers"]] == [
        ("measures[m1]", "evaluation_date", "Evalueringsdatoen er før startdatoen."),
        ("profession_text[physician]", "text",
         "For lang: høyst 10\u00a0000 tegn. Gjør teksten kortere; ingenting av det du skrev er borte.")]
    assert problem["blockers"][0]["author"]["name"]

    # Fixed, both go into the note and the drafts are gone; then the note signs.
    fixed = note_document(what_matters=WHAT_MATTERS, measures=[{**MEASURE, "evaluation_date": "2027-01-10"}],
                          profession_texts=[{"profession": "physician", "text": LONG[:10_000]}])
    body = await (await client.put(url, json={"based_on": 2, "content": fixed}, headers=headers)).json()
    assert body["drafts"] == [] and body["note"]["drafts"] == [] and len(body["note"]["content"]["measures"]) == 1
    assert (await client.post(f"{url}/sign", headers=headers)).status == 200
