"""A trust sets up what can be booked, through the pages only: a health room with its equipment and hours,
and a short consultation type with ten minutes' notice. Every set-up page passes axe."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, log_in

pytestmark = pytest.mark.browser

SETUP_PAGES = ("/resources/new/room", "/resources/new/equipment", "/resources/new/person", "/resources/import",
               "/consultation-types", "/consultation-types/new")


@pytest.mark.asyncio(loop_scope="session")
async def test_an_admin_sets_up_a_health_room_and_a_consultation_type(page: Page,
                                                                      totp_secrets: TotpSecrets) -> None:
    await log_in(page, "admin", totp_secrets)
    for url in SETUP_PAGES:
        response = await page.goto(url)
        assert response is not None and response.status == 200, url
        await assert_accessible(page)

    # A health room: a mistake in the hours first, which keeps everything typed, then the room.
    await page.goto("/resources/new/room")
    await page.get_by_label("Navn på helserommet").fill("Helserom Træna")
    await page.get_by_label("Kommune").select_option(label="Rødøy kommune")
    await page.get_by_label("Adresse", exact=True).fill("Vågaholmen 1, 8186 Tjong")
    await page.get_by_label("Undersøkelseskamera").check()
    await page.get_by_label("Mandag").fill("08:00-kvart over tre")
    await page.get_by_role("button", name="Opprett helserom").click()
    await expect(page.locator(".field-error").first).to_be_visible()
    await expect(page.get_by_label("Navn på helserommet")).to_have_value("Helserom Træna")
    await expect(page.get_by_label("Undersøkelseskamera")).to_be_checked()
    await assert_accessible(page)
    await page.get_by_label("Mandag").fill("08:00-15:30")
    await page.get_by_role("button", name="Opprett helserom").click()
    errors = await page.locator(".field-error").all_inner_texts()
    assert not errors, errors
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Helserom Træna")
    await expect(page.locator("main")).to_contain_text("Undersøkelseskamera")
    await assert_accessible(page)

    # A short consultation type: 15 minutes, bookable ten minutes ahead.
    await page.goto("/consultation-types/new")
    await page.get_by_label("Navn på norsk").fill("Kort avklaring")
    await page.get_by_label("Navn på engelsk").fill("Short clarification")
    await page.get_by_label("Varighet i minutter").fill("15")
    await page.get_by_label("Varsel i minutter (hvor tidligst den kan bookes)").fill("10")
    await page.get_by_label("En spesialist fra avdelingen").check()
    await page.get_by_label("Avdeling", exact=True).select_option(index=1)
    await page.get_by_label("En sykepleier i pasientens kommune").check()
    await page.get_by_role("button", name="Opprett konsultasjonstype").click()
    errors = await page.locator(".field-error, .error-summary").all_inner_texts()
    assert not errors, errors
    await expect(page).not_to_have_url(re.compile(r"/consultation-types/new$"))
    await page.goto("/consultation-types")
    await expect(page.locator("main")).to_contain_text("Kort avklaring")
    await assert_accessible(page)
