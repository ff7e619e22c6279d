"""One consultation from start to end, as new users take it: the specialist and the nurse in the call, a
relative on a phone who has only the code, and afterwards the patient with the signed summary and who
looked. Every page shows one state at a time, in Norwegian words, all the way through."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.call_steps import DESKTOP, PHONE, expect_state, guest_waits, make_code, person, staff_joins
from tests.browser.support import TotpSecrets, assert_accessible
from tests.browser.test_call_consultation import _book_now
from tests.serverproc import Server

pytestmark = pytest.mark.browser

OWN_WORDS = "Pasientens egne ord"


async def _patient_code(specialist: Page) -> str:
    await specialist.get_by_label("Deltar som").select_option("patient")
    code = await make_code(specialist, "Pasienten selv")
    await specialist.get_by_label("Deltar som").select_option("relative")
    return code


async def _sign_and_share(specialist: Page, booking: str) -> None:
    specialist.on("dialog", lambda dialog: dialog.accept())
    await specialist.goto(f"/consultations/{booking}/note")
    await expect(specialist.get_by_role("status")).to_have_text("Lagret")
    await specialist.get_by_label(OWN_WORDS).fill("Jeg vil bo hjemme så lenge jeg kan.")
    await expect(specialist.get_by_role("status")).to_have_text("Lagret")
    await specialist.get_by_role("button", name="Signer notatet").click()
    await expect(specialist.get_by_label(OWN_WORDS)).to_be_disabled()
    await specialist.get_by_role("button", name="Del med pasienten").click()
    await expect(specialist.get_by_text("Delt med pasienten og pårørende")).to_be_visible()


@pytest.mark.asyncio(loop_scope="session")
async def test_a_consultation_from_the_code_on_the_phone_to_the_patients_summary(
    browser: Browser, server: Server, totp_secrets: TotpSecrets
) -> None:
    booking = _book_now(server)
    async with person(browser, server.base_url, DESKTOP) as specialist, \
            person(browser, server.base_url, DESKTOP) as nurse, \
            person(browser, server.base_url, PHONE) as relative, \
            person(browser, server.base_url, DESKTOP) as patient:
        await staff_joins(specialist, "lege", booking, totp_secrets)
        await staff_joins(nurse, "sykepleier.rodoy", booking, totp_secrets)

        # The relative was told only the code on the phone: plain /join is enough. She waits, knows
        # staff know, and is let in.
        await guest_waits(relative, await make_code(specialist, "Kari Nordmann"))
        await expect_state(relative, "waiting", "waiting-room")
        await expect(relative.locator("#waiting-staff")).to_contain_text("vet at du venter")
        await specialist.get_by_role("button", name="Slipp inn Kari Nordmann").click()
        await expect_state(relative, "incall", "incall")
        await assert_accessible(relative)

        # The patient, in the health room with the nurse, gets her own code to read the summary later.
        patient_code = await _patient_code(specialist)
        await patient.goto("/join")
        await patient.get_by_label("Tilgangskode").fill(patient_code)
        await patient.get_by_role("button", name="Fortsett").click()
        await expect(patient).to_have_url(re.compile(rf"/consultations/{re.escape(booking)}$"))
        await expect_state(patient, "before", "precall")

        # The nurse shares a reading: everyone sees it in words, nobody sees a code.
        await nurse.locator("#reading-name").select_option("blood_pressure")
        await nurse.locator("#reading-value").fill("142/88")
        await nurse.get_by_role("button", name="Del måling").click()
        for page in (specialist, nurse, relative):
            await expect(page.locator("#readings li").first).to_contain_text("Blodtrykk: 142/88 mmHg")
            assert "blood_pressure" not in await page.locator("#readings").inner_text()

        # The specialist ends it for everyone: each page says so, and only so.
        await specialist.get_by_role("button", name="Avslutt for alle").click()
        for page in (specialist, nurse, relative):
            await expect_state(page, "ended", "after")
            await expect(page.locator("#after-text")).to_have_text("Konsultasjonen er avsluttet.")
            await expect(page.get_by_role("button", name="Bli med igjen")).to_have_count(0)
        await assert_accessible(relative)

        # Signed and shared, the patient reads her summary and sees who looked, in plain words.
        await _sign_and_share(specialist, booking)
        await patient.goto(f"/consultations/{booking}/summary")
        await expect(patient.get_by_text("Jeg vil bo hjemme så lenge jeg kan.")).to_be_visible()
        looked = patient.get_by_role("complementary", name="Hvem har sett opplysningene dine")
        await expect(looked).to_contain_text("Ingrid Hansen")
        await expect(looked).to_contain_text(re.compile(r"kl\. \d\d\.\d\d"))
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", await patient.locator("main").inner_text())
        await assert_accessible(patient)

        # A relative's session shows no such list.
        response = await relative.goto(f"/consultations/{booking}/access-log")
        assert response is not None and response.status == 404
