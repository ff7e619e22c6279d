"""Every demo role logs in with real TOTP and lands on its own accessible start page."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.support import ROLES, TotpSecrets, assert_accessible, log_in

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

DISPLAY_NAMES = {
    "koordinator": "Siri Berg", "lege": "Ingrid Hansen", "sykepleier.rodoy": "Kari Nilsen",
    "sykepleier.luroy": "Ola Johansen", "leder": "Per Olsen", "admin": "Anne Admin",
}
HEADINGS = {"/patients": "Pasienter", "/team": "Teamoversikt", "/admin/users": "Brukere",
            "/referrals": "Henvisningskø", "/day": re.compile(r"^Dagsliste: ")}


@pytest.mark.parametrize("username", list(ROLES))
async def test_role_lands_on_its_start_page(page: Page, totp_secrets: TotpSecrets, username: str) -> None:
    start, menu = ROLES[username]
    await log_in(page, username, totp_secrets)
    await expect(page).to_have_url(re.compile(re.escape(start) + "$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS[start])
    nav = page.get_by_role("navigation", name="Hovedmeny")
    await expect(nav.get_by_role("link")).to_have_text(menu)
    await expect(nav.locator('a[aria-current="page"]')).to_have_text(menu[0])
    header = page.locator("header.site-header")
    await expect(header.locator(".who")).to_contain_text(DISPLAY_NAMES[username])
    await expect(header.get_by_role("button", name="Logg ut")).to_be_visible()
    await assert_accessible(page)


async def test_admin_pages_are_accessible(page: Page, totp_secrets: TotpSecrets) -> None:
    await log_in(page, "admin", totp_secrets)
    await expect(page.get_by_role("table", name="Aktive brukere")).to_contain_text("sykepleier.rodoy")
    await assert_accessible(page)
    nav = page.get_by_role("navigation", name="Hovedmeny")
    await nav.get_by_role("link", name="Organisasjoner").click()
    await expect(page).to_have_url(re.compile(r"/admin/organisations$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Organisasjoner")
    await expect(page.get_by_role("table", name="Organisasjoner")).to_contain_text("Rødøy kommune")
    await assert_accessible(page)
    await nav.get_by_role("link", name="Revisjonslogg").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Revisjonslogg")
    await expect(page.get_by_role("status")).to_be_visible()
    await assert_accessible(page)
