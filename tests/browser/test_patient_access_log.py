"""The patient, joined with her own code, reads the signed summary and sees who looked at her information;
the specialist prints the same list for her from the patient page.

The consultation is the demo's try-it-now one (Astrid Olsen), whose room is open when the server starts.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, demo_consultation_now, log_in, separate_people
from tests.serverproc import Server

pytestmark = pytest.mark.browser

CODE = re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")
OWN_WORDS = "Pasientens egne ord"
SECTION = "Hvem har sett opplysningene dine"



@pytest_asyncio.fixture(loop_scope="session")
async def two(browser: Browser, server: Server) -> AsyncIterator[list[Page]]:
    """The specialist's and the patient's browsers, each its own profile."""
    async with separate_people(browser, server.base_url, 2) as pages:
        yield pages


async def _code_for_the_patient(specialist: Page, booking: str) -> str:
    """The specialist opens the consultation and makes a join code for the patient herself."""
    await specialist.goto(f"/consultations/{booking}")
    await specialist.get_by_role("button", name="Bli med i konsultasjonen").click()
    await expect(specialist.locator("#incall")).to_be_visible()
    await specialist.wait_for_function(
        "() => window.samkonsultPeer && window.samkonsultPeer.pc"
        " && window.samkonsultPeer.pc.connectionState === 'connected'")
    await specialist.get_by_label("Navn").fill("Astrid Olsen")
    await specialist.get_by_label("Deltar som").select_option("patient")
    await specialist.get_by_role("button", name="Lag tilgangskode").click()
    await expect(specialist.locator("#invite-result")).to_contain_text("Tilgangskode")
    code = CODE.search(await specialist.locator("#invite-result").inner_text())
    assert code is not None
    return code.group(0)


@pytest.mark.asyncio(loop_scope="session")
async def test_the_patient_sees_who_looked_beside_her_summary(two: list[Page], server: Server,
                                                              totp_secrets: TotpSecrets) -> None:
    specialist, patient = two
    booking = demo_consultation_now(server.log_path.parent / "db.sqlite")
    await log_in(specialist, "lege", totp_secrets)
    code = await _code_for_the_patient(specialist, booking)

    # The patient joins with her code; there is no summary to read yet.
    await patient.goto("/join")
    await patient.get_by_label("Tilgangskode").fill(code)
    await patient.get_by_role("button", name="Fortsett").click()
    await expect(patient).to_have_url(re.compile(rf"/consultations/{re.escape(booking)}$"))
    response = await patient.goto(f"/consultations/{booking}/summary")
    assert response is not None and response.status == 404

    # The specialist writes, signs and shares the note.
    specialist.on("dialog", lambda dialog: dialog.accept())
    await specialist.goto(f"/consultations/{booking}/note")
    await expect(specialist.get_by_role("status")).to_have_text("Lagret")
    await specialist.get_by_label(OWN_WORDS).fill("Jeg vil klare meg selv hjemme.")
    await expect(specialist.get_by_role("status")).to_have_text("Lagret")
    await specialist.get_by_role("button", name="Signer notatet").click()
    await expect(specialist.get_by_label(OWN_WORDS)).to_be_disabled()
    await specialist.get_by_role("button", name="Del med pasienten").click()
    await expect(specialist.get_by_text("Delt med pasienten og pårørende")).to_be_visible()

    # The patient reads the summary, and beside it who has looked, in plain words.
    await patient.goto(f"/consultations/{booking}/summary")
    await expect(patient.get_by_text("Jeg vil klare meg selv hjemme.")).to_be_visible()
    section = patient.get_by_role("complementary", name=SECTION)
    await expect(section).to_be_visible()
    await expect(section).to_contain_text("Ingrid Hansen")
    await expect(section).to_contain_text("lege, Helgelandssykehuset Mo i Rana")
    await expect(section).to_contain_text("Samkonsultasjonsnotat")
    await expect(section).to_contain_text(re.compile(r"kl\. \d\d\.\d\d"))
    await assert_accessible(patient)

    # The whole list, on a page of its own, with a period to choose.
    await section.get_by_role("link", name=re.compile("Se hele listen")).click()
    await expect(patient).to_have_url(re.compile(rf"/consultations/{re.escape(booking)}/access-log$"))
    await expect(patient.get_by_role("heading", level=1)).to_have_text(SECTION)
    await expect(patient.locator("main")).to_contain_text("Ingrid Hansen")
    await assert_accessible(patient)
    await patient.get_by_label("Periode").select_option(label="Den siste måneden")
    await patient.get_by_role("button", name="Vis").click()
    await expect(patient).to_have_url(re.compile(r"access-log\?months=1$"))
    await expect(patient.locator("main")).to_contain_text("Ingrid Hansen")
    main_text = await patient.locator("main").inner_text()
    for raw in ("day list", "patient list", "consultation participant", "read_shared", "user:"):
        assert raw not in main_text, raw

    # The specialist prints the same list for a patient who asks, from the patient page.
    await specialist.goto("/patients")
    await specialist.get_by_role("link", name="Olsen, Astrid").click()
    await specialist.get_by_role("button", name="Åpne").click()
    await specialist.get_by_role("link", name="Hvem har sett opplysningene om denne pasienten").click()
    await expect(specialist.locator("main")).to_contain_text("Astrid Olsen")
    await expect(specialist.locator("main")).to_contain_text("Pasientliste")
    await assert_accessible(specialist)
    await specialist.get_by_role("link", name="Skriv ut til pasienten").click()
    await expect(specialist.get_by_role("heading", level=1)).to_have_text("Hvem har sett opplysningene om deg")
    await expect(specialist.get_by_role("button", name="Skriv ut")).to_be_visible()
    await expect(specialist.locator("main")).to_contain_text("Innsynsbegjæring fra pasienten")
    await expect(specialist.locator("main")).to_contain_text(" *****")
    await assert_accessible(specialist)
