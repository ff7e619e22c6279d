"""The specialist completes a consultation in the browser and says what followed; a missing answer is
asked for with the ticks kept, and the outcome can be changed afterwards. Every state is checked by axe."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, log_in
from tests.browser.test_call_consultation import _book_now
from tests.serverproc import Server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_completing_a_consultation_records_what_followed(page: Page, server: Server,
                                                               totp_secrets: TotpSecrets) -> None:
    booking = _book_now(server)  # a consultation of its own: the demo's are used by other tests
    await log_in(page, "lege", totp_secrets)
    await page.goto(f"/bookings/{booking}")
    await page.get_by_role("button", name="Pågår").click()
    await expect(page.locator("dl.facts")).to_contain_text("Pågår")

    outcome = page.get_by_role("region", name="Fullfør konsultasjonen")
    await expect(outcome).to_be_visible()
    await expect(page.get_by_role("button", name="Fullført", exact=True)).to_have_count(0)
    await assert_accessible(page)
    admission = outcome.get_by_role("group", name="Slapp pasienten å bli lagt inn på sykehus takket være "
                                                   "konsultasjonen?")
    follow_up = outcome.get_by_role("group", name="Hvem følger opp pasienten?")

    # Forgetting the first question: asked for, with the box already ticked still ticked.
    await follow_up.get_by_label("Hjemmetjenesten").check()
    await follow_up.get_by_label("Fastlege").check()
    await outcome.get_by_role("button", name="Fullfør konsultasjonen").click()
    await expect(page.get_by_role("alert").first).to_contain_text("Noen felt må rettes")
    await expect(admission).to_contain_text("Velg om konsultasjonen gjorde at pasienten slapp å bli lagt inn.")
    await expect(follow_up.get_by_label("Hjemmetjenesten")).to_be_checked()
    await expect(follow_up.get_by_label("Fastlege")).to_be_checked()
    await assert_accessible(page)

    await admission.get_by_label("Ja, pasienten slapp innleggelse").check()
    await follow_up.get_by_label("Fastlege").uncheck()
    await outcome.get_by_role("button", name="Fullfør konsultasjonen").click()
    await expect(page.get_by_role("status")).to_contain_text("Konsultasjonen er fullført")
    await expect(page.locator("dl.facts").first).to_contain_text("Fullført")
    done = page.get_by_role("region", name="Hva som skjedde etterpå")
    await expect(done).to_contain_text("Ja, pasienten slapp innleggelse")
    await expect(done).to_contain_text("Hjemmetjenesten")
    await expect(done).to_contain_text("Ingrid Hansen")
    await assert_accessible(page)

    # Changed afterwards: the form opens with the answers as they stand.
    await done.get_by_text("Endre hva som skjedde etterpå").click()
    await expect(done.get_by_label("Ja, pasienten slapp innleggelse")).to_be_checked()
    await done.get_by_label("Usikkert").check()
    await done.get_by_label("Poliklinikken").check()
    await assert_accessible(page)
    await done.get_by_role("button", name="Lagre hva som skjedde etterpå").click()
    await expect(page.get_by_role("status")).to_contain_text("Hva som skjedde etter konsultasjonen, er lagret.")
    await expect(page).to_have_url(re.compile(r"\?outcome=1#outcome$"))
    await expect(done.locator("dl")).to_contain_text("Usikkert")
    await expect(done.locator("dl")).to_contain_text("Hjemmetjenesten, Poliklinikken")
    await assert_accessible(page)


async def test_the_referral_form_asks_who_would_have_travelled(page: Page, server: Server,
                                                               totp_secrets: TotpSecrets) -> None:
    await log_in(page, "sykepleier.rodoy", totp_secrets)
    await page.goto("/referrals/new")
    # a patient of the demo history, whom no other test uses
    solveig = await page.locator("#f-patient option", has_text="Andreassen, Solveig").get_attribute("value")
    assert solveig
    await page.get_by_label("Pasient", exact=True).select_option(solveig)
    await page.get_by_label("Grunn til konsultasjonen").fill("Svimmel og har falt to ganger.")
    await page.get_by_label("Pasienten ville trengt ledsager").check()
    await page.get_by_label("Sykepleier fra kommunen ville reist med").check()
    await assert_accessible(page)
    await page.get_by_role("button", name="Send henvisning").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Finn tid")
    trip = page.get_by_role("list", name="Reisen konsultasjonen sparer")
    await expect(trip).to_contain_text("Pasienten ville trengt ledsager")
    await expect(trip).to_contain_text("Sykepleier fra kommunen ville reist med")
    await assert_accessible(page)
