"""The pages a script builds, read in bokmål as the browser shows them: no ids, UCUM codes or English.

The HTTP test (tests/http/test_every_page_readable.py) reads every page as the server sends it; the note
editor draws its readings, measures and risk analysis in the browser, so it is read here once drawn.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, log_in
from tests.browser.test_call_consultation import _book_now
from tests.http.readable_text import problems
from tests.serverproc import Server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

WRITE_NOTE = """async (content) => {
  const csrf = JSON.parse(document.getElementById('note-config').textContent).csrf;
  const url = JSON.parse(document.getElementById('note-config').textContent).noteUrl;
  const note = await (await fetch(url, {headers: {Accept: 'application/json'}})).json();
  const resp = await fetch(url, {method: 'PUT', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
                                 body: JSON.stringify({based_on: note.version, content})});
  return resp.status;
}"""

TAKEN = "2026-11-24T10:05:00Z"
CONTENT = {
    "schema": 1, "what_matters": {"own_words": "Å bo hjemme", "goals": ["Gå tur"]}, "acp": None,
    "risks": [{"id": "r1", "unwanted_event": "Fall", "causes": ["Svimmelhet"], "consequences": ["Brudd"],
               "proactive_measures": ["Trening"], "reactive_measures": ["Trygghetsalarm"]}],
    "measures": [{"id": "m1", "what": "Gåtrening", "responsible": {"kind": "home_care", "name": "Rødøy"},
                  "start_date": "2026-11-25", "evaluation_date": "2026-12-09", "status": "planned"}],
    "readings": [
        {"id": "b1", "kind": "blood_pressure", "name": "", "value": "142", "diastolic": "88", "unit": "mm[Hg]",
         "taken_at": TAKEN, "taken_by": "Kari Nilsen"},
        {"id": "t1", "kind": "temperature", "name": "", "value": "37.8", "diastolic": None, "unit": "Cel",
         "taken_at": TAKEN, "taken_by": "Kari Nilsen"}],
    "profession_texts": [],
    "assessment": {"physical": None, "psychological": None, "cognitive": None, "psychosocial": None},
}


async def test_the_note_editor_reads_in_bokmal(page: Page, server: Server, totp_secrets: TotpSecrets) -> None:
    # A consultation of its own: the demo's are written in and signed by other tests.
    booking = _book_now(server)
    await log_in(page, "lege", totp_secrets)
    await page.goto(f"/consultations/{booking}/note")
    await expect(page.get_by_role("status")).to_have_text("Lagret")
    assert await page.evaluate(WRITE_NOTE, CONTENT) == 200
    await page.reload()
    await expect(page.get_by_role("status")).to_have_text("Lagret")
    await expect(page.get_by_text("mmHg").first).to_be_visible()
    found = problems(await page.content())
    assert not found, "\n".join(map(str, found))
    await assert_accessible(page)
