"""The device and connection check in a real Chromium with its fake camera and microphone.

A guest with no login runs the whole check: the camera preview, the microphone level, the test sound,
and the media round trip through the server, whose verdicts must all be shown; on a desktop and on a
phone-sized screen, with axe on the page before and after.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.support import assert_accessible
from tests.serverproc import Server

pytestmark = pytest.mark.browser

# The round trip takes a few seconds of media plus connecting; generous for a loaded 2-core machine.
ROUND_TRIP = 60_000


async def _run_whole_check(page: Page) -> None:
    await page.goto("/check?from=join")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sjekk utstyr og nettverk")
    await assert_accessible(page)
    await page.get_by_role("button", name="Start sjekken").click()

    await expect(page.locator("#camera-verdict")).to_have_text("Vi ser deg. Kameraet virker.")
    await expect(page.locator("#camera-verdict")).to_have_class("check-verdict good")
    # Chromium's fake microphone beeps: the level meter moves and the page says it hears us.
    await expect(page.locator("#mic-verdict")).to_have_text("Vi hører deg. Stolpen beveger seg når du snakker.")

    await page.get_by_role("button", name="Spill av testlyd").click()
    await page.get_by_role("button", name="Ja, jeg hørte den").click()
    await expect(page.locator("#speaker-verdict")).to_have_class("check-verdict good")

    verdict = page.locator("#network-verdict")
    await expect(verdict).to_have_text("Alt ser bra ut. Videosamtalen skal fungere herfra.", timeout=ROUND_TRIP)
    await expect(verdict).to_have_class("check-verdict good")
    await expect(page.locator("#result-connected")).to_have_text("Ja")
    await expect(page.locator("#result-video")).to_have_text("Ja")
    # Browser and server share the loopback interface: a direct (host) candidate pair.
    await expect(page.locator("#result-via")).to_have_text("Direkte forbindelse")
    rtt = await page.locator("#result-rtt").inner_text()
    loss = await page.locator("#result-loss").inner_text()
    assert rtt.endswith(" ms") and rtt[:-3].isdigit(), rtt
    assert loss.endswith(" %"), loss
    await expect(page.get_by_role("button", name="Prøv igjen")).to_be_visible()
    await assert_accessible(page)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_guest_runs_the_whole_check(page: Page) -> None:
    await _run_whole_check(page)


@pytest.mark.asyncio(loop_scope="session")
async def test_the_check_on_a_phone(browser: Browser, server: Server) -> None:
    context = await browser.new_context(base_url=server.base_url, locale="nb-NO", timezone_id="Europe/Oslo",
                                        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    try:
        phone = await context.new_page()
        await _run_whole_check(phone)
        # Nothing sticks out sideways on a narrow screen.
        assert await phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        await context.close()
