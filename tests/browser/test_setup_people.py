"""An administrator sets up a new municipality with its travel to the hospital and a nurse, then edits and
deactivates the nurse, all through the pages, each page checked with axe."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, log_in

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_admin_sets_up_a_municipality_with_travel_and_a_nurse(page: Page, totp_secrets: TotpSecrets) -> None:
    await log_in(page, "admin", totp_secrets)
    nav = page.get_by_role("navigation", name="Hovedmeny")
    await nav.get_by_role("link", name="Organisasjoner").click()
    await page.get_by_label("Navn", exact=True).fill("Træna kommune")
    await page.get_by_label("Type").select_option(label="Kommune")
    await page.get_by_label("Kode (kommunenummer eller organisasjonsnummer)").fill("1835")
    await page.get_by_role("button", name="Opprett organisasjon").click()
    await page.get_by_role("link", name="Træna kommune").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Træna kommune")
    await assert_accessible(page)

    await page.get_by_label("Adresse").fill("Selvær, 8770 Træna")
    await page.get_by_label("Sentrum (stedet reisen måles fra)").fill("Husøy")
    await page.get_by_role("button", name="Lagre endringene").click()
    await expect(page.get_by_role("status")).to_have_text("Endringene er lagret.")

    # A mistake first: the ferry is ticked but its time left out. The page says so and keeps the rest.
    await page.get_by_label("Sykehus").select_option(label="Helgelandssykehuset Mo i Rana")
    await page.get_by_label("Avstand i kilometer").fill("160,5")
    await page.get_by_label("Reisetid, i minutter eller som timer:minutter").fill("5:10")
    await page.get_by_label("Vanlig reisemåte").select_option(label="Hurtigbåt")
    await page.get_by_label("Reisen har ferje").check()
    await page.get_by_role("button", name="Lagre reisen").click()
    await expect(page.get_by_text("Skriv hvor lang tid ferja tar.")).to_be_visible()
    await expect(page.get_by_label("Avstand i kilometer")).to_have_value("160,5")
    await assert_accessible(page)
    await page.get_by_label("Tid på ferja, i minutter").fill("50")
    await page.get_by_role("button", name="Lagre reisen").click()
    await expect(page.get_by_role("status")).to_have_text("Reisen er lagret.")
    travel = page.get_by_role("table", name="Reise til sykehuset")
    await expect(travel).to_contain_text("160,5 km")
    await expect(travel).to_contain_text("5 t 10 min")
    await expect(travel).to_contain_text("Ja, 50 min")

    # A nurse in the new municipality.
    await nav.get_by_role("link", name="Brukere").click()
    await page.get_by_label("Navn", exact=True).fill("Hilde Træen")
    await page.get_by_label("Brukernavn").fill("hilde.traeen")
    await page.get_by_label("Første passord (minst 10 tegn)").fill("et-godt-passord-1")
    await page.get_by_label("Rolle").select_option(label="Sykepleier")
    await page.get_by_label("Organisasjon", exact=True).select_option(label="Træna kommune")
    await page.get_by_label("Yrke").select_option(label="Sykepleier")
    await page.get_by_role("button", name="Opprett bruker").click()
    await expect(page.get_by_role("status")).to_contain_text("Brukeren er opprettet")
    active = page.get_by_role("table", name="Aktive brukere")
    await expect(active.get_by_role("row", name=re.compile("Hilde Træen"))).to_contain_text("sykepleier")
    await active.get_by_role("link", name="Hilde Træen").click()
    await assert_accessible(page)

    # She becomes a physiotherapist, then leaves: deactivated, never deleted.
    await page.get_by_label("Yrke").select_option(label="Fysioterapeut")
    await page.get_by_label("E-post").fill("hilde@")
    await page.get_by_role("button", name="Lagre endringene").click()
    await expect(page.get_by_text("Skriv en gyldig e-postadresse.")).to_be_visible()
    await expect(page.get_by_label("Yrke")).to_have_value("physiotherapist")
    await page.get_by_label("E-post").fill("hilde.traeen@example.no")
    await page.get_by_role("button", name="Lagre endringene").click()
    await expect(page.get_by_role("status")).to_have_text("Endringene er lagret.")
    await page.get_by_role("button", name="Deaktiver bruker").click()
    await expect(page.get_by_role("status")).to_contain_text("Brukeren er deaktivert.")
    await expect(page.get_by_role("button", name="Aktiver brukeren igjen")).to_be_visible()
    await assert_accessible(page)
    await page.get_by_role("link", name="Alle brukere").click()
    await expect(page.get_by_role("table", name="Deaktiverte brukere")).to_contain_text("Hilde Træen")
    await expect(page.get_by_role("table", name="Aktive brukere")).not_to_contain_text("Hilde Træen")


async def test_the_staff_import_page_lists_a_bad_file_and_is_accessible(page: Page, totp_secrets: TotpSecrets,
                                                                         tmp_path_factory: pytest.TempPathFactory
                                                                         ) -> None:
    folder = tmp_path_factory.mktemp("import")
    bad = folder / "ansatte.csv"
    bad.write_text("brukernavn;navn;rolle;organisasjon\nny.person;Ny Person;vaktmester;Rødøy kommune\n",
                   encoding="utf-8")
    await log_in(page, "admin", totp_secrets)
    await page.get_by_role("link", name="Importer ansatte fra fil").click()
    await assert_accessible(page)
    await page.get_by_label("CSV-fil").set_input_files(str(bad))
    await page.get_by_role("button", name="Kontroller filen").click()
    await expect(page.get_by_role("alert")).to_contain_text("Filen har 1 problem. Ingenting ble importert.")
    await expect(page.get_by_role("table", name="Feil i filen")).to_contain_text("Ukjent rolle.")
    await assert_accessible(page)
