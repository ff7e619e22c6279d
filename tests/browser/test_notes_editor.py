"""The consultation note in two browsers, as the specialist and the nurse write it together.

Both open the demo's joint consultation of Marit Eriksen, write in different parts (merged), the nurse
loses the network and keeps typing (kept in the browser, nothing lost across a closed tab), both change
the same part (a visible conflict with both texts, resolved), and the specialist signs, amends and exports.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, log_in
from tests.serverproc import Server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

OWN_WORDS = "Pasientens egne ord"
NURSE_TEXT = "Sykepleier"  # the nurse's own profession text
STATUS_SAVED = "Lagret"
STATUS_OFFLINE = re.compile("Frakoblet — teksten din er tatt vare på på denne enheten")

FIND_BOOKING = """async (days) => {
  for (const day of days) {
    const resp = await fetch(`/api/day-list?date=${day}`, {headers: {Accept: 'application/json'}});
    if (!resp.ok) continue;
    const found = (await resp.json()).find((b) => b.patient_name.includes('Eriksen'));
    if (found) return found.id;
  }
  return null;
}"""

GET_NOTE = """async (url) => {
  const resp = await fetch(url, {headers: {Accept: 'application/json'}});
  return {status: resp.status, body: await resp.json()};
}"""

# The nurse's text as kept in this browser until the server has it ("" when nothing is kept).
KEPT = """() => Object.keys(localStorage).filter((k) => k.startsWith('samkonsult-note:'))
  .flatMap((k) => JSON.parse(localStorage.getItem(k)).local.profession_texts)
  .filter((t) => t.profession === 'nurse').map((t) => t.text).join('')"""

FETCH_STATUS = """async (url) => (await fetch(url)).status"""


class Person:
    """One of the two people, in their own browser profile."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context = context
        self.page = page

    async def open_note(self, booking: str) -> None:
        await self.page.goto(f"/consultations/{booking}/note")
        await expect(self.status).to_have_text(STATUS_SAVED)

    @property
    def status(self) -> Locator:
        return self.page.get_by_role("status")

    async def note(self, url: str) -> dict[str, Any]:
        got = await self.page.evaluate(GET_NOTE, url)
        assert got["status"] == 200, got
        return dict(got["body"])


@pytest_asyncio.fixture(loop_scope="session")
async def two(browser: Browser, server: Server, totp_secrets: TotpSecrets) -> AsyncIterator[list[Person]]:
    """The specialist and the nurse, logged in, each in a fresh profile that fails on any CSP block."""
    contexts: list[BrowserContext] = []
    people: list[Person] = []
    blocked: list[str] = []
    for user in ("lege", "sykepleier.rodoy"):
        ctx = await browser.new_context(base_url=server.base_url, locale="nb-NO", timezone_id="Europe/Oslo")
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        page = await ctx.new_page()
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda e: blocked.append(f"uncaught: {e}"))
        page.on("dialog", lambda d: d.accept())
        await log_in(page, user, totp_secrets)
        people.append(Person(ctx, page))
    yield people
    for ctx in contexts:
        await ctx.close()
    assert not blocked, "the Content-Security-Policy blocked something, or a script failed:\n" + "\n".join(blocked)


async def _booking_of_marit_eriksen(page: Page) -> str:
    """The demo's joint consultation of Marit Eriksen, from the specialist's day lists of the coming days."""
    days = [(date.today() + timedelta(days=n)).isoformat() for n in range(0, 10)]
    booking = await page.evaluate(FIND_BOOKING, days)
    assert booking, "no consultation of Marit Eriksen in the specialist's day lists of the next ten days"
    return str(booking)


async def test_specialist_and_nurse_write_sign_amend_and_export_one_note(two: list[Person]) -> None:
    specialist, nurse = two
    booking = await _booking_of_marit_eriksen(specialist.page)
    await specialist.open_note(booking)
    await nurse.open_note(booking)
    await expect(specialist.page.get_by_role("heading", level=1)).to_contain_text("Marit Eriksen")
    await assert_accessible(specialist.page)
    note_url = str(await specialist.page.evaluate("() => JSON.parse(document.getElementById('note-config')"
                                                  ".textContent).noteUrl"))

    # Different parts at the same time: both are saved and both see both after a reload.
    await specialist.page.get_by_label(OWN_WORDS).fill("Jeg vil bo hjemme og gå tur med hunden.")
    await nurse.page.get_by_label(NURSE_TEXT, exact=True).fill("Hjemmetjenesten kommer morgen og kveld.")
    await expect(specialist.status).to_have_text(STATUS_SAVED)
    await expect(nurse.status).to_have_text(STATUS_SAVED)
    for person in two:
        await _server_has(person, note_url, ["Jeg vil bo hjemme og gå tur med hunden.",
                                             "Hjemmetjenesten kommer morgen og kveld."])
    for person in two:
        await person.page.reload()
        await expect(person.status).to_have_text(STATUS_SAVED)
        await expect(person.page.get_by_label(OWN_WORDS)).to_have_value("Jeg vil bo hjemme og gå tur med hunden.")
        await expect(person.page.get_by_label(NURSE_TEXT, exact=True)).to_have_value(
            "Hjemmetjenesten kommer morgen og kveld.")

    # The specialist adds a risk analysis (drawn as a bow-tie), a measure and a reading.
    sp = specialist.page
    await sp.get_by_role("button", name="Legg til risikoanalyse").click()
    risk = sp.locator(".note-risk").last
    await risk.get_by_label("Uønsket hendelse").fill("Fall")
    await risk.get_by_label("Årsaker (én per linje)").fill("Svake muskler\nSvimmelhet")
    await risk.get_by_label("Forebyggende tiltak (én per linje)").fill("Styrketrening")
    await risk.get_by_label("Skadebegrensende tiltak (én per linje)").fill("Trygghetsalarm")
    await risk.get_by_label("Konsekvenser (én per linje)").fill("Brudd\nRedsel")
    bowtie = risk.locator("figure.bowtie")
    await expect(bowtie.locator(".bowtie-knot")).to_have_text("Fall")
    await expect(bowtie.locator(".bowtie-col.causes li")).to_have_text(["Svake muskler", "Svimmelhet"])
    await expect(bowtie.locator(".bowtie-col.consequences li")).to_have_text(["Brudd", "Redsel"])
    await sp.get_by_role("button", name="Legg til tiltak").click()
    measure = sp.locator(".note-measures tbody tr").last
    await measure.get_by_label("Hva").fill("Matombringing")
    await measure.get_by_label("Oppstart").fill("2030-01-02")
    await sp.get_by_label("Verdi").fill("132")
    await sp.get_by_label("Diastolisk").fill("84")
    await sp.get_by_role("button", name="Legg til måling").click()
    await expect(sp.locator("table.note-readings tbody tr")).to_contain_text(["132/84 mmHg"])
    await expect(specialist.status).to_have_text(STATUS_SAVED)
    await assert_accessible(sp)
    content = (await specialist.note(note_url))["content"]
    assert [(r["unwanted_event"], r["causes"], r["reactive_measures"]) for r in content["risks"]] == [
        ("Fall", ["Svake muskler", "Svimmelhet"], ["Trygghetsalarm"])]
    assert [(m["what"], m["start_date"]) for m in content["measures"]] == [("Matombringing", "2030-01-02")]
    assert [(r["value"], r["diastolic"]) for r in content["readings"]] == [("132", "84")]
    await sp.reload()
    await expect(sp.locator("figure.bowtie .bowtie-knot")).to_have_text("Fall")
    await expect(sp.locator(".note-measures tbody tr").last.get_by_label("Hva")).to_have_value("Matombringing")

    # The nurse loses the network and keeps typing: the text is kept on the device until the server has it.
    nurse_field = nurse.page.get_by_label(NURSE_TEXT, exact=True)
    await nurse.context.set_offline(True)
    first = "Hjemmetjenesten kommer morgen og kveld.\nTrenger trygghetsalarm."
    await nurse_field.fill(first)
    await expect(nurse.status).to_have_text(STATUS_OFFLINE)
    assert await nurse.page.evaluate(KEPT) == first
    await nurse.context.set_offline(False)
    await expect(nurse.status).to_have_text(STATUS_SAVED)
    await _server_has(specialist, note_url, ["Jeg vil bo hjemme og gå tur med hunden.", first])
    assert await nurse.page.evaluate(KEPT) == ""

    # Offline again, and the tab is closed before the network is back: nothing is lost.
    await nurse.context.set_offline(True)
    second = first + "\nDatteren handler inn hver fredag."
    await nurse.page.get_by_label(NURSE_TEXT, exact=True).fill(second)
    await expect(nurse.status).to_have_text(STATUS_OFFLINE)
    await nurse.page.close()
    await nurse.context.set_offline(False)
    nurse.page = await nurse.context.new_page()
    await nurse.page.goto(f"/consultations/{booking}/note")
    await expect(nurse.page.get_by_label(NURSE_TEXT, exact=True)).to_have_value(second)
    await expect(nurse.status).to_have_text(STATUS_SAVED)
    await _server_has(specialist, note_url, ["Jeg vil bo hjemme og gå tur med hunden.", second])
    assert await nurse.page.evaluate(KEPT) == ""
    offline_text = second

    # Both change the same part at once (the nurse's connection is down, so the specialist's change has not
    # reached her editor): the nurse, saving second, sees both texts and keeps hers.
    await nurse.context.set_offline(True)
    await nurse.page.get_by_label(OWN_WORDS).fill("Jeg vil bo hjemme og ha besøk av barnebarna.")
    await specialist.page.get_by_label(OWN_WORDS).fill("Jeg vil bo hjemme.")
    await expect(specialist.status).to_have_text(STATUS_SAVED)
    await nurse.context.set_offline(False)
    conflict = nurse.page.get_by_role("alert").filter(has_text="Noen andre endret den samme delen samtidig")
    await expect(conflict).to_be_visible()
    await expect(conflict.get_by_role("heading", level=3)).to_have_text("Hva er viktig for deg?")
    await expect(conflict).to_contain_text("Jeg vil bo hjemme.")
    await expect(conflict).to_contain_text("Jeg vil bo hjemme og ha besøk av barnebarna.")
    await assert_accessible(nurse.page)
    await conflict.get_by_role("button", name="Behold min").click()
    await expect(conflict).to_have_count(0)
    await expect(nurse.status).to_have_text(STATUS_SAVED)
    await _server_has(specialist, note_url, ["Jeg vil bo hjemme og ha besøk av barnebarna.", offline_text])

    # The specialist signs: the note is locked; only amendments, each shown with the original.
    # The nurse's choice reached the specialist's open editor without a reload, so she signs what she sees.
    await expect(specialist.page.get_by_label(OWN_WORDS)).to_have_value("Jeg vil bo hjemme og ha besøk av barnebarna.")
    assert (await specialist.note(note_url))["status"] == "preliminary"
    await specialist.page.get_by_role("button", name="Signer notatet").click()
    await expect(specialist.page.get_by_label(OWN_WORDS)).to_be_disabled()
    await expect(specialist.status).to_have_text("Notatet er signert. Endringer gjøres som tillegg.")
    await specialist.page.get_by_label("Gjelder").select_option("what_matters")
    await specialist.page.get_by_label("Tillegg", exact=True).fill("Datteren ringer hver søndag.")
    await specialist.page.get_by_role("button", name="Legg til tillegg").click()
    await expect(specialist.page.locator(".note-amendments")).to_contain_text("Datteren ringer hver søndag.")
    await assert_accessible(specialist.page)
    signed = await specialist.note(note_url)
    assert signed["status"] == "amended" and signed["signature"]["signer"]["name"]
    assert [a["text"] for a in signed["amendments"]] == ["Datteren ringer hver søndag."]

    await nurse.page.reload()
    await expect(nurse.page.get_by_label(OWN_WORDS)).to_be_disabled()
    await expect(nurse.page.locator(".note-amendments")).to_contain_text("Datteren ringer hver søndag.")

    # Exports: PDF, text for the record, FHIR, printable summary.
    for name in ("PDF", "Tekst til journal", "FHIR (JSON)", "Utskriftsvennlig sammendrag"):
        href = await specialist.page.get_by_role("link", name=name).get_attribute("href")
        assert href
        assert await specialist.page.evaluate(FETCH_STATUS, href) == 200, name


async def _server_has(person: Person, note_url: str, expected: list[str]) -> None:
    """Wait until the server has ``expected`` as [own words, nurse's text] (asked with the page's fetch)."""
    deadline = asyncio.get_running_loop().time() + 10
    while (texts := await _saved_texts(person, note_url)) != expected:
        assert asyncio.get_running_loop().time() < deadline, f"the server has {texts}, not {expected}"
        await asyncio.sleep(0.2)  # polling a condition, not waiting for a time


async def _saved_texts(person: Person, note_url: str) -> list[str]:
    """The patient's own words and the nurse's text as the server has them."""
    content = (await person.note(note_url))["content"]
    own = (content.get("what_matters") or {}).get("own_words", "")
    nurse = [t["text"] for t in content.get("profession_texts") or [] if t["profession"] == "nurse"]
    return [own, nurse[0] if nurse else ""]
