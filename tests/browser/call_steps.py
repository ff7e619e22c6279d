"""Steps the call-page browser tests share: who is on which page, and which state the page shows."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.support import TotpSecrets, log_in

CODE = re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")
PANELS = ("precall", "waiting-room", "incall", "after")

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}

# Which state panels are laid out on the page now (the hidden attribute must really hide them).
_VISIBLE_PANELS = """(ids) => ids.filter((id) => {
  const node = document.getElementById(id);
  return node && node.checkVisibility() && node.getBoundingClientRect().height > 0;
})"""


async def visible_panels(page: Page) -> list[str]:
    return list(await page.evaluate(_VISIBLE_PANELS, list(PANELS)))


async def expect_state(page: Page, state: str, panel: str) -> None:
    """The page is in ``state`` and shows exactly that state's panel, no other."""
    await expect(page.locator("#call")).to_have_attribute("data-state", state)
    assert await visible_panels(page) == [panel], f"{state}: {await visible_panels(page)}"


@asynccontextmanager
async def person(browser: Browser, base_url: str, device: dict[str, object]) -> AsyncIterator[Page]:
    """One person's browser profile (Norwegian, Oslo time) on ``device``; fails on any CSP block."""
    ctx: BrowserContext = await browser.new_context(base_url=base_url, locale="nb-NO", timezone_id="Europe/Oslo",
                                                    **device)  # type: ignore[arg-type]
    ctx.set_default_timeout(30_000)  # a safety net on a loaded machine, not a timing check
    blocked: list[str] = []
    page = await ctx.new_page()
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        yield page
    finally:
        await ctx.close()
    assert not blocked, "\n".join(blocked)


async def staff_joins(page: Page, username: str, booking: str, secrets: TotpSecrets) -> None:
    await log_in(page, username, secrets)
    await page.goto(f"/consultations/{booking}")
    await page.get_by_role("button", name="Bli med i konsultasjonen").click()
    await expect(page.locator("#call")).to_have_attribute("data-state", "incall")


async def make_code(staff: Page, name: str) -> str:
    await staff.get_by_label("Navn", exact=True).fill(name)
    await staff.get_by_role("button", name="Lag tilgangskode").click()
    await expect(staff.locator("#invite-result")).to_contain_text(f"Tilgangskode for {name}")
    match = CODE.search(await staff.locator("#invite-result").inner_text())
    assert match is not None
    return match.group(0)


async def guest_waits(page: Page, code: str) -> None:
    await page.goto("/join")
    await page.get_by_label("Tilgangskode").fill(code)
    await page.get_by_role("button", name="Fortsett").click()
    await page.get_by_role("button", name="Bli med i konsultasjonen").click()
    await expect(page.locator("#call")).to_have_attribute("data-state", "waiting")
