"""The administrator reads the audit log in the browser: filtered, in words, accessible."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, log_in

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_the_admin_filters_the_audit_log_by_action_and_user(page: Page, totp_secrets: TotpSecrets) -> None:
    await log_in(page, "admin", totp_secrets)
    await page.goto("/admin/audit")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Revisjonslogg")
    await expect(page.get_by_role("status")).to_contain_text("Revisjonsloggen er hel.")
    table = page.get_by_role("table", name="Oppføringer")
    await expect(table).to_be_visible()
    await assert_accessible(page)

    await page.get_by_label("Hva som ble gjort").select_option(label="logget inn")
    await page.get_by_label("Hvem").select_option(label="Anne Admin (administrator)")
    await page.get_by_role("button", name="Vis").click()
    await expect(page).to_have_url(re.compile(r"action=login"))
    rows = table.locator("tbody tr")
    await expect(rows.first).to_contain_text("logget inn")
    for text in await rows.all_inner_texts():
        assert "Anne Admin" in text and "logget inn" in text, text
    await assert_accessible(page)

    await page.get_by_label("Pasientens fødselsnummer").fill("01010100000")
    await page.get_by_role("button", name="Vis").click()
    await expect(page.get_by_text("Ingen pasient har dette fødselsnummeret.")).to_be_visible()
    await expect(page.get_by_label("Pasientens fødselsnummer")).to_have_value("01010100000")
    await assert_accessible(page)
