"""A team leader opens the benefits report in the browser: charts with their tables, nothing the
Content-Security-Policy blocks, accessible on screen and in print, a period chosen and a PDF downloaded."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, log_in

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_the_team_leader_reads_and_downloads_the_benefits_report(page: Page,
                                                                       totp_secrets: TotpSecrets) -> None:
    await log_in(page, "leder", totp_secrets)
    await page.get_by_role("navigation", name="Hovedmeny").get_by_role("link", name="Gevinster").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Gevinster av samkonsultasjonene")
    chart = page.get_by_role("img", name="Reiser spart per måned")
    await expect(chart).to_be_visible()
    # The chart's style comes from our own stylesheet: its bars are drawn in the first palette colour.
    bar = chart.locator("rect.rect").first
    if await bar.count():
        assert await bar.evaluate("el => getComputedStyle(el).fill") == "rgb(31, 78, 121)"
    await expect(page.get_by_role("table", name="Måned for måned")).to_be_visible()
    await expect(page.get_by_role("table", name="Svartid etter hastegrad")).to_be_visible()
    await assert_accessible(page)

    await page.emulate_media(media="print")
    await expect(page.get_by_role("button", name="Vis rapporten")).to_be_hidden()
    await expect(chart).to_be_visible()
    await assert_accessible(page)
    await page.emulate_media(media="screen")

    await page.get_by_label("Type periode").select_option(label="Et år")
    await page.get_by_role("button", name="Vis rapporten").click()
    await expect(page).to_have_url(re.compile(r"period=year"))
    year = await page.get_by_label("År (for et år)").input_value()
    await expect(page.get_by_role("heading", level=2, name=year)).to_be_visible()

    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Last ned som PDF").click()
    download = await download_info.value
    assert download.suggested_filename == f"gevinster-{year}-01-01-{year}-12-31.pdf"
    path = await download.path()
    assert path.read_bytes().startswith(b"%PDF")


async def test_a_period_that_ends_before_it_starts_is_told_beside_the_field(page: Page,
                                                                            totp_secrets: TotpSecrets) -> None:
    await log_in(page, "leder", totp_secrets)
    await page.goto("/reports/benefits?period=custom&from=2026-11-30&to=2026-06-01")
    await expect(page.get_by_label("Til (for fra og til en dato)")).to_have_value("2026-06-01")
    await expect(page.get_by_text("Sluttdatoen er før startdatoen.")).to_be_visible()
    await assert_accessible(page)
