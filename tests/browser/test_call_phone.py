"""A relative in the call on a phone: the person talking large, their own video small, controls in reach.

The relative's page is a 390 x 844 touch screen; the specialist is on a desktop. Once the relative
sees the specialist's video, the big tile is the specialist's, the relative's own picture is smaller
than it, and the call's buttons sit inside the screen without scrolling, big enough for a thumb.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.call_steps import DESKTOP, PHONE, expect_state, guest_waits, make_code, person, staff_joins
from tests.browser.support import TotpSecrets, assert_accessible
from tests.browser.test_call_consultation import _book_now
from tests.serverproc import Server

pytestmark = pytest.mark.browser

THUMB_PX = 44  # the smallest comfortable touch target (WCAG 2.5.5, platform guidelines)

_BOX = """(selector) => { const r = document.querySelector(selector).getBoundingClientRect();
  return {x: r.x, y: r.y, width: r.width, height: r.height}; }"""


async def _box(page: Page, selector: str) -> dict[str, float]:
    return dict(await page.evaluate(_BOX, selector))


@pytest.mark.asyncio(loop_scope="session")
async def test_on_a_phone_the_speaker_is_large_and_the_controls_within_reach(
    browser: Browser, server: Server, totp_secrets: TotpSecrets
) -> None:
    booking = _book_now(server)
    async with person(browser, server.base_url, DESKTOP) as doctor, \
            person(browser, server.base_url, PHONE) as relative:
        await staff_joins(doctor, "lege", booking, totp_secrets)
        doctor_id = str(await doctor.evaluate("() => window.samkonsult.me"))
        await guest_waits(relative, await make_code(doctor, "Kari Nordmann"))
        await assert_accessible(relative)
        await doctor.get_by_role("button", name="Slipp inn Kari Nordmann").click()
        await expect_state(relative, "incall", "incall")

        # The specialist's camera arrives and is the large tile (she is the one there to talk to).
        speaker = relative.locator(f'#tiles figure.speaker[data-participant="{doctor_id}"]')
        await expect(speaker).to_have_count(1)
        await relative.wait_for_function(
            "(pid) => { const v = document.querySelector(`#tiles figure.speaker[data-participant='${pid}'] video`);"
            " return v && v.videoWidth > 0; }", arg=doctor_id)
        big = await _box(relative, "#tiles figure.speaker")
        own = await _box(relative, '#tiles figure[data-key="local"]')
        assert own["width"] * own["height"] < big["width"] * big["height"] / 4, (own, big)
        assert big["width"] >= 390 * 0.8, big  # the speaker fills the screen's width

        # From the top of the page, without scrolling, every control is on the screen, at the bottom,
        # and big enough to tap.
        await relative.evaluate("() => window.scrollTo(0, 0)")
        await relative.wait_for_function("() => window.scrollY === 0")
        controls = relative.locator(".controls button")
        assert await controls.count() >= 3
        for i in range(await controls.count()):
            button = controls.nth(i)
            await expect(button).to_be_in_viewport()
            box = await button.bounding_box()
            assert box is not None
            assert box["height"] >= THUMB_PX and box["width"] >= THUMB_PX, (await button.inner_text(), box)
            assert box["y"] + box["height"] <= 844 and box["y"] >= 844 / 2, (await button.inner_text(), box)
        # Phones cannot share a screen, and a relative has no examination camera: no buttons for those.
        await expect(relative.get_by_role("button", name="Del skjerm")).to_have_count(0)
        await expect(relative.get_by_role("button", name="Legg til undersøkelseskamera")).to_have_count(0)
        await assert_accessible(relative)

        # The thumb reaches "Forlat" where it is, and the page then shows only that the call was left.
        await relative.get_by_role("button", name="Forlat", exact=True).tap()
        await expect_state(relative, "left", "after")
        await assert_accessible(relative)
