"""The note written together, live: the specialist and the nurse in two browsers on one consultation.

Each sees the other's text without reloading and sees who is where and typing; both write the same part at
once and one of them gets both texts side by side; the specialist signs while the nurse is still typing
(asked first, naming her), and what she types from then on becomes her draft amendment, kept on the server
and signed as an amendment. A consultation is booked for this test, so no other test locks its note.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Browser, BrowserContext, Dialog, Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, log_in
from tests.browser.test_call_consultation import _book_now
from tests.serverproc import Server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

OWN_WORDS = "Pasientens egne ord"
WISHES = "Ønsker ved alvorlig sykdom"
GET_NOTE = """async (url) => (await fetch(url, {headers: {Accept: 'application/json'}})).json()"""


async def _open(browser: Browser, server: Server, secrets: TotpSecrets, username: str, booking: str,
                errors: list[str]) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(base_url=server.base_url, locale="nb-NO", timezone_id="Europe/Oslo")
    ctx.set_default_timeout(15_000)
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(f"{username}: {e}"))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    await log_in(page, username, secrets)
    await page.goto(f"/consultations/{booking}/note")
    await expect(page.get_by_role("status").first).to_have_text("Lagret")
    return ctx, page


async def _one_with_conflict(pages: tuple[Page, Page]) -> Page:
    """The page that got the conflict (whichever save came second), waiting for it as a person would."""
    for _ in range(300):
        for page in pages:
            if await page.locator(".note-conflict").count():
                return page
        await asyncio.sleep(0.1)
    raise AssertionError("neither editor showed the conflict")


async def test_two_write_live_and_signing_keeps_the_late_words(browser: Browser, server: Server,
                                                               totp_secrets: TotpSecrets) -> None:
    booking = _book_now(server)
    errors: list[str] = []
    d_ctx, doctor = await _open(browser, server, totp_secrets, "lege", booking, errors)
    n_ctx, nurse = await _open(browser, server, totp_secrets, "sykepleier.rodoy", booking, errors)
    try:
        # Presence: each sees the other in the note; before anyone writes, the professions present are named.
        await expect(doctor.locator(".note-presence")).to_contain_text("Kari Nilsen (Sykepleier)")
        await expect(nurse.locator(".note-presence")).to_contain_text("Ingrid Hansen (Lege)")
        await expect(doctor.locator(".note-missing")).to_contain_text("Sykepleier")

        # Each sees the other's text without reloading.
        await doctor.get_by_label(OWN_WORDS).fill("Å bo hjemme på Rødøy.")
        await expect(nurse.get_by_label(OWN_WORDS)).to_have_value("Å bo hjemme på Rødøy.")
        nurse_field = nurse.get_by_label("Sykepleier", exact=True)
        await nurse_field.press_sequentially("Sår på venstre legg", delay=40)
        # While she types, the doctor sees where.
        await expect(doctor.locator('.note-presence li[data-typing="true"]')).to_contain_text(
            re.compile("Kari Nilsen.*skriver i"))
        await expect(doctor.get_by_label("Sykepleier", exact=True)).to_have_value("Sår på venstre legg")
        await expect(doctor.locator(".note-missing")).not_to_contain_text("Sykepleier")

        # Both write the same part at the same moment: one of them sees both texts, nothing overwritten.
        await asyncio.gather(doctor.get_by_label(WISHES).fill("Vil være hjemme."),
                             nurse.get_by_label(WISHES).fill("Vil helst ikke på sykehus."))
        loser = await _one_with_conflict((doctor, nurse))
        box = loser.locator(".note-conflict")
        await expect(box.locator("pre.theirs")).to_contain_text(re.compile("Vil være hjemme|Vil helst ikke"))
        await expect(box.locator("pre.mine")).to_contain_text(re.compile("Vil være hjemme|Vil helst ikke"))
        assert await box.locator("pre.theirs").inner_text() != await box.locator("pre.mine").inner_text()
        await assert_accessible(loser)
        await box.get_by_role("button", name="Behold min").click()
        kept = await loser.get_by_label(WISHES).input_value()
        other = nurse if loser is doctor else doctor
        await expect(other.get_by_label(WISHES)).to_have_value(kept)

        # The nurse goes on typing; the doctor signs meanwhile and is asked first, with her name.
        await nurse_field.click()
        await nurse.keyboard.press("End")
        await nurse.keyboard.type(", skiftes daglig.", delay=40)
        await expect(doctor.locator('.note-presence li[data-typing="true"]')).to_contain_text("Kari Nilsen")
        asked: list[str] = []

        async def answer(dialog: Dialog) -> None:
            asked.append(dialog.message)
            await dialog.accept()

        doctor.on("dialog", answer)
        typing = asyncio.ensure_future(nurse.keyboard.type(" Feber 38,2 i går kveld.", delay=60))
        await doctor.get_by_role("button", name="Signer notatet").click()
        await expect(doctor.get_by_role("status").first).to_have_text(re.compile("signert"))
        await typing
        assert asked and "Noen andre skriver fortsatt i notatet: Kari Nilsen (Sykepleier)" in asked[0]

        # Her words after the signature are her draft amendment, kept on the server; more typing goes there.
        draft = nurse.locator("textarea[data-draft-part='profession_text[nurse]']")
        await expect(draft).to_be_focused()
        await nurse.keyboard.type(" Ring fastlegen.", delay=20)
        await expect(draft).to_have_value(re.compile("Feber 38,2 i går kveld. Ring fastlegen.$"))
        await expect(nurse.get_by_role("status").first).to_have_text("Utkastet til tillegg er tatt vare på")
        stored = await nurse.evaluate(GET_NOTE, nurse.url.replace("/consultations/", "/api/bookings/"))
        [kept_draft] = [d for d in stored["drafts"] if d.get("after_signing")]
        assert kept_draft["content"].endswith("Feber 38,2 i går kveld. Ring fastlegen.")
        await assert_accessible(nurse)

        # A fresh page keeps it too; signed as an amendment, the doctor sees it without reloading.
        await nurse.reload()
        await expect(draft).to_have_value(re.compile("Ring fastlegen.$"))
        await nurse.get_by_role("button", name="Signer som tillegg").click()
        await expect(doctor.locator(".note-amendments")).to_contain_text("Ring fastlegen.")
        await expect(nurse.locator("textarea[data-draft-part]")).to_have_count(0)
        assert not errors, errors
    finally:
        await d_ctx.close()
        await n_ctx.close()


# A copy of unsent work as an older screen would have kept it: based on the latest version (with the nurse's
# text) but lacking that text, with only "what matters" edited by this author.
STALE_COPY = """async (url) => {
  const note = await (await fetch(url, {headers: {Accept: 'application/json'}})).json();
  const local = JSON.parse(JSON.stringify(note.content));
  local.profession_texts = local.profession_texts.filter((t) => t.profession !== 'nurse');
  local.what_matters = {own_words: 'Hjemme, med hunden.', goals: []};
  localStorage.setItem(`samkonsult-note:${url}`, JSON.stringify({note, baseVersion: note.version,
    baseDoc: note.content, local, conflicts: [], edited: ['what_matters']}));
}"""
KEPT_NURSE_TEXT = """() => Object.keys(localStorage).filter((k) => k.startsWith('samkonsult-note:'))
  .map((k) => JSON.parse(localStorage.getItem(k)))
  .map((kept) => [kept.baseDoc.profession_texts.some((t) => t.profession === 'nurse'),
                  kept.local.profession_texts.some((t) => t.profession === 'nurse')])"""


async def test_a_redrawn_or_stale_screen_never_removes_the_others_text(browser: Browser, server: Server,
                                                                      totp_secrets: TotpSecrets) -> None:
    booking = _book_now(server)
    errors: list[str] = []
    d_ctx, doctor = await _open(browser, server, totp_secrets, "lege", booking, errors)
    n_ctx, nurse = await _open(browser, server, totp_secrets, "sykepleier.rodoy", booking, errors)
    note_url = str(await doctor.evaluate("() => JSON.parse(document.getElementById('note-config').textContent)"
                                         ".noteUrl"))
    try:
        # The doctor's field keeps focus with her edit while the nurse's save redraws her screen.
        await doctor.get_by_label(OWN_WORDS).fill("Jeg vil bo hjemme.")
        await expect(doctor.get_by_role("status").first).to_have_text("Lagret")
        await nurse.get_by_label("Sykepleier", exact=True).fill("Hjemmetjenesten kommer morgen og kveld.")
        await expect(nurse.get_by_role("status").first).to_have_text("Lagret")
        await expect(doctor.get_by_label("Sykepleier", exact=True)).to_have_value(
            "Hjemmetjenesten kommer morgen og kveld.")
        # Whatever the doctor's browser keeps of unsent work never lacks a part its base has.
        assert all(has_local or not has_base for has_base, has_local in await doctor.evaluate(KEPT_NURSE_TEXT))
        await doctor.reload()
        await expect(doctor.get_by_role("status").first).to_have_text("Lagret")
        await expect(doctor.get_by_label("Sykepleier", exact=True)).to_have_value(
            "Hjemmetjenesten kommer morgen og kveld.")

        # A kept copy that lacks her text all the same is saved without taking it out of the note.
        await doctor.evaluate(STALE_COPY, note_url)
        await doctor.reload()
        await expect(doctor.get_by_role("status").first).to_have_text("Lagret")
        await expect(doctor.get_by_label(OWN_WORDS)).to_have_value("Hjemme, med hunden.")
        await expect(doctor.get_by_label("Sykepleier", exact=True)).to_have_value(
            "Hjemmetjenesten kommer morgen og kveld.")
        stored = await doctor.evaluate(GET_NOTE, note_url)
        assert stored["content"]["what_matters"]["own_words"] == "Hjemme, med hunden."
        assert [t["text"] for t in stored["content"]["profession_texts"] if t["profession"] == "nurse"] == [
            "Hjemmetjenesten kommer morgen og kveld."]
        await expect(nurse.get_by_label(OWN_WORDS)).to_have_value("Hjemme, med hunden.")
        await expect(nurse.get_by_label("Sykepleier", exact=True)).to_have_value(
            "Hjemmetjenesten kommer morgen og kveld.")
        assert not errors, errors
    finally:
        await d_ctx.close()
        await n_ctx.close()
