"""The patient pages in a browser: list, reason, patient, access log, and registration errors."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, log_in

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_open_patient_with_a_reason_and_see_the_read_in_the_access_log(
    page: Page, totp_secrets: TotpSecrets
) -> None:
    await log_in(page, "sykepleier.rodoy", totp_secrets)
    await page.get_by_role("navigation", name="Hovedmeny").get_by_role("link", name="Pasienter").click()
    patients = page.get_by_role("table", name="Pasienter")
    await expect(patients).to_contain_text("Olsen, Astrid")
    await expect(patients).to_contain_text("Eriksen, Marit")
    await expect(patients).not_to_contain_text("Pedersen, Johan")  # a Lurøy patient, no care relation
    await assert_accessible(page)

    await patients.get_by_role("link", name="Olsen, Astrid").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Begrunnelse for innsyn")
    await expect(page.get_by_text("Astrid")).to_have_count(0)  # nothing of the patient before a reason
    reason = page.get_by_role("group", name="Hvorfor trenger du innsyn?")
    await expect(reason.get_by_role("radio", name="Planlagt samkonsultasjon")).to_be_checked()
    await assert_accessible(page)

    await page.get_by_role("button", name="Åpne").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Astrid Olsen")
    await expect(page.get_by_text("Åpnet med begrunnelsen: Planlagt samkonsultasjon")).to_be_visible()
    await expect(page.locator("dl.facts")).to_contain_text("Rødøy kommune")
    await assert_accessible(page)

    await page.get_by_role("link", name="Hvem har sett opplysningene om denne pasienten").click()
    await expect(page).to_have_url(re.compile(r"/access-log\?"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Innsynslogg: Astrid Olsen")
    log_table = page.get_by_role("table", name="Innsynslogg")
    read = log_table.get_by_role("row").filter(has_text="Kari Nilsen").filter(has_text="Planlagt samkonsultasjon")
    await expect(read.first).to_contain_text("Rødøy kommune")
    await assert_accessible(page)


async def test_registration_with_a_bad_national_id_keeps_the_input_and_explains_in_norwegian(
    page: Page, totp_secrets: TotpSecrets
) -> None:
    await log_in(page, "lege", totp_secrets)
    await page.get_by_role("navigation", name="Hovedmeny").get_by_role("link", name="Pasienter").click()
    await page.get_by_role("link", name="Registrer pasient").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Registrer pasient")
    await assert_accessible(page)

    await page.get_by_label("Fornavn").fill("Berit")
    await page.get_by_label("Etternavn").fill("Strand")
    await page.get_by_label("Fødselsnummer (11 siffer)").fill("12345678901")
    await page.get_by_label("Bostedskommune").select_option(label="Rødøy kommune")
    await page.get_by_label("Adresse").fill("Myken 1, 8199 Myken")
    await page.get_by_label("Telefon").fill("+47 41000009")
    await page.get_by_role("button", name="Registrer", exact=True).click()

    await expect(page).to_have_url(re.compile(r"/patients/new$"))
    await expect(page.get_by_role("alert")).to_have_text("Noen felt må rettes.")
    nin = page.get_by_label("Fødselsnummer (11 siffer)")
    await expect(nin).to_have_attribute("aria-invalid", "true")
    error = page.locator("#" + (await nin.get_attribute("aria-describedby") or "missing"))
    await expect(error).to_have_text("Kontrollsifrene stemmer ikke. Sjekk nummeret.")
    # The error is beside its own field, inside the field's group.
    await expect(page.locator(".field.has-error")).to_have_count(1)
    await expect(page.locator(".field.has-error")).to_contain_text("Kontrollsifrene stemmer ikke.")
    await expect(nin).to_have_value("12345678901")
    await expect(page.get_by_label("Fornavn")).to_have_value("Berit")
    await expect(page.get_by_label("Etternavn")).to_have_value("Strand")
    await expect(page.get_by_label("Bostedskommune").locator("option:checked")).to_have_text("Rødøy kommune")
    await expect(page.get_by_label("Adresse")).to_have_value("Myken 1, 8199 Myken")
    await expect(page.get_by_label("Telefon")).to_have_value("+47 41000009")
    await expect(page.locator("html")).to_have_attribute("lang", "nb")
    await assert_accessible(page)
