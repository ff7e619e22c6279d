"""Never lose a word: a wrong date in one measure keeps nothing else from being saved, and the wrong date
itself is kept on the server, shown at its field in bokmål, in a fresh browser as much as in this one.

The specialist writes in the note of a consultation booked for this test (other tests write in and sign
the demo's): what matters, a bow-tie, a measure whose evaluation comes before its start, a second measure
with only who does it, the advance care plan and the doctor's own text. Signing lists both problems. The
browser is closed, a new one opened as the same person: all of it is there, the fields marked with their
messages. Fixed, the marks go.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, log_in
from tests.browser.test_call_consultation import _book_now
from tests.serverproc import Server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

DATE_MESSAGE = "Evalueringsdatoen er før startdatoen."
KEPT = re.compile("Lagret. Noe av det du skrev må rettes")
OWN = "Å bo hjemme og gå til butikken."
EVENT = "Fall på badet"
WISHES = "Vil ikke legges inn igjen om det kan unngås."
DOCTOR = "Ortostatisk blodtrykksfall; seponerer doxazosin."
MEASURE = "Blodtrykksmåling liggende og stående"
TEAM = "Hjemmetjenesten Rødøy"  # typed in a second measure before saying what it is
REQUIRED = "Fyll ut dette feltet."


async def _fresh(browser: Browser, server: Server, secrets: TotpSecrets,
                 errors: list[str]) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(base_url=server.base_url, locale="nb-NO", timezone_id="Europe/Oslo")
    ctx.set_default_timeout(10_000)
    page = await ctx.new_page()
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("dialog", lambda d: d.accept())
    await log_in(page, "lege", secrets)
    return ctx, page


async def test_a_wrong_date_loses_nothing_across_browsers(browser: Browser, server: Server,
                                                          totp_secrets: TotpSecrets) -> None:
    errors: list[str] = []
    # A consultation of its own: the demo's are written in and signed by other tests, whose order varies.
    booking = _book_now(server)
    ctx, page = await _fresh(browser, server, totp_secrets, errors)
    await page.goto(f"/consultations/{booking}/note")
    status = page.get_by_role("status").first
    await expect(status).to_have_text("Lagret")
    await expect(page.locator("#note-size")).to_contain_text(re.compile(r"av 1\s500\s000 tegn brukt"))

    await page.get_by_label("Pasientens egne ord").fill(OWN)
    await page.get_by_role("button", name="Legg til risikoanalyse").click()
    await page.locator(".note-risk").last.get_by_label("Uønsket hendelse").fill(EVENT)
    await page.get_by_role("button", name="Legg til tiltak").click()
    row_id = await page.locator(".note-measures tbody tr").last.get_attribute("data-id")
    row = page.locator(f'.note-measures tbody tr[data-id="{row_id}"]')
    await row.get_by_label("Hva", exact=True).fill(MEASURE)
    await row.get_by_label("Oppstart").fill("2026-12-10")
    await row.get_by_label("Evaluering").fill("2026-12-01")
    await page.get_by_role("button", name="Legg til tiltak").click()
    await page.locator(".note-measures tbody tr").last.get_by_label("Navn (avdeling, sone)").fill(TEAM)
    await page.get_by_label("Ønsker ved alvorlig sykdom").fill(WISHES)
    await page.get_by_label("Lege", exact=True).fill(DOCTOR)

    # Saved, all but the date: the field is marked, its message beside it, listed once at the top.
    await expect(status).to_have_text(KEPT)
    evaluation = row.get_by_label("Evaluering")
    await expect(evaluation).to_have_attribute("aria-invalid", "true")
    await expect(page.locator(".note-problems li")).to_have_count(2)
    await expect(page.locator(".note-problems li").first).to_contain_text(DATE_MESSAGE)
    await expect(page.locator(".note-problems li").last).to_contain_text(REQUIRED)
    described = await evaluation.get_attribute("aria-describedby")
    assert described and await page.locator(f"#{described}").inner_text() == DATE_MESSAGE
    await assert_accessible(page)

    # Signing says exactly what stops it.
    await page.get_by_role("button", name="Signer notatet").click()
    blockers = page.locator(".note-blockers")
    await expect(blockers).to_contain_text("Notatet kan ikke signeres ennå. Rett dette først:")
    await expect(blockers.locator("li")).to_have_count(2)
    await expect(blockers.locator("li").first).to_contain_text(DATE_MESSAGE)

    # A fresh browser (nothing kept in it): everything is there, the wrong date too, marked.
    await ctx.close()
    ctx, page = await _fresh(browser, server, totp_secrets, errors)
    await page.goto(f"/consultations/{booking}/note")
    await expect(page.get_by_role("status").first).to_have_text(KEPT)
    await expect(page.get_by_label("Pasientens egne ord")).to_have_value(OWN)
    await expect(page.locator(".note-risk").last.get_by_label("Uønsket hendelse")).to_have_value(EVENT)
    await expect(page.locator(".bowtie-knot").last).to_have_text(EVENT)
    await expect(page.get_by_label("Ønsker ved alvorlig sykdom")).to_have_value(WISHES)
    await expect(page.get_by_label("Lege", exact=True)).to_have_value(DOCTOR)
    team_row = page.locator(".note-measures tbody tr").last
    await expect(team_row.get_by_label("Navn (avdeling, sone)")).to_have_value(TEAM)
    await expect(team_row.locator(".field-error")).to_have_text(REQUIRED)
    row = page.locator(f'.note-measures tbody tr[data-id="{row_id}"]')
    await expect(row.get_by_label("Hva", exact=True)).to_have_value(MEASURE)
    evaluation = row.get_by_label("Evaluering")
    await expect(evaluation).to_have_value("2026-12-01")
    await expect(evaluation).to_have_attribute("aria-invalid", "true")
    await expect(row.locator(".field-error")).to_have_text(DATE_MESSAGE)

    # The summary's link takes the keyboard to the field; fixed, the mark and the list go.
    await page.locator(".note-problems a").first.click()
    await expect(evaluation).to_be_focused()
    await evaluation.fill("2027-01-10")
    await team_row.get_by_label("Hva", exact=True).fill("Hjemmebesøk to ganger i uka")
    await expect(page.get_by_role("status").first).to_have_text("Lagret")
    await expect(evaluation).not_to_have_attribute("aria-invalid", "true")
    await expect(page.locator(".note-problems li")).to_have_count(0)
    await page.reload()
    await expect(row.get_by_label("Evaluering")).to_have_value("2027-01-10")
    await expect(page.locator(".note-measures tbody tr").last.get_by_label("Hva", exact=True)).to_have_value(
        "Hjemmebesøk to ganger i uka")
    await ctx.close()
    assert not errors, "\n".join(errors)
