"""A coordinator takes a referral from the queue to a booked joint consultation; the specialist and the
nurse then find it in their day lists and calendars, and a calendar feed carries it."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.support import TotpSecrets, assert_accessible, log_in
from tests.serverproc import Server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_referral_to_booking_in_the_browser(page: Page, browser: Browser, server: Server,
                                                  totp_secrets: TotpSecrets) -> None:
    await log_in(page, "koordinator", totp_secrets)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Henvisningskø")
    await assert_accessible(page)
    row = page.get_by_role("row").filter(has_text="Johan Pedersen")
    await expect(row).to_contain_text("Innen et døgn")
    await row.get_by_role("link", name="Finn tid").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Finn tid")
    table = page.get_by_role("table", name="Tidligste tider da alle er ledige")
    await expect(table.get_by_role("columnheader")).to_contain_text(["Tid", "Spesialist", "Sykepleier", "Helserom"])
    first = table.get_by_role("row").nth(1)
    await expect(first).to_contain_text("Ingrid Hansen")
    await expect(first).to_contain_text("Ola Johansen")
    await expect(first).to_contain_text("Helserom Lurøy")
    await assert_accessible(page)
    when = (await first.get_by_role("rowheader").inner_text()).strip()
    await first.get_by_role("button", name=re.compile("^Book")).click()

    await expect(page.get_by_role("status")).to_contain_text("Konsultasjonen er booket")
    await expect(page.locator("dl.facts")).to_contain_text("Booket")
    await assert_accessible(page)
    booking_url = page.url.split("?")[0]
    # The referral has left the queue.
    await page.get_by_role("navigation", name="Hovedmeny").get_by_role("link", name="Henvisningskø").click()
    await expect(page.get_by_role("row").filter(has_text="Johan Pedersen")).to_have_count(0)

    # The nurse finds it in the day list of that day and in the week calendar.
    nurse_context = await browser.new_context(base_url=server.base_url, locale="nb-NO", timezone_id="Europe/Oslo")
    nurse = await nurse_context.new_page()
    try:
        await log_in(nurse, "sykepleier.luroy", totp_secrets)
        await nurse.goto(booking_url)
        await expect(nurse.get_by_role("heading", level=1)).to_contain_text("Johan Pedersen")
        await expect(nurse.locator("dl.facts")).to_contain_text("Ola Johansen")
        await nurse.get_by_role("navigation", name="Hovedmeny").get_by_role("link", name="Kalender").click()
        await expect(nurse.get_by_role("heading", level=1)).to_contain_text("Ola Johansen")
        await assert_accessible(nurse)
        # Walk weeks forward until the booked week (the slot finder proposed the earliest time).
        for _ in range(3):
            if await nurse.get_by_role("link", name=re.compile("Samkonsultasjon|samkonsultasjon")).count():
                break
            await nurse.get_by_role("link", name="Neste uke").click()
        await expect(nurse.get_by_role("link", name=re.compile("[Ss]amkonsultasjon")).first).to_be_visible()
        # A calendar feed of one's own, subscribed by a calendar program (no cookies, only the address).
        await nurse.goto("/calendar/feeds")
        await nurse.get_by_role("button", name="Lag abonnementsadresse").first.click()
        feed_url = (await nurse.locator("code.feed-url").inner_text()).strip()
        calendar_program = await browser.new_context()  # no cookies: the address is the only key
        try:
            resp = await calendar_program.request.get(feed_url)
            feed = await resp.text()
        finally:
            await calendar_program.close()
        assert resp.ok and "BEGIN:VEVENT" in feed and "Pedersen" not in feed
    finally:
        await nurse_context.close()
    assert when
